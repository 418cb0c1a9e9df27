/** The console's entry: one urql client for the page, and the app inside its provider. */
import { Provider } from '@urql/preact';
import { render } from 'preact';
import { App } from './app.js';
import { createConsoleClient } from './client.js';
import './styles.css';

const root = document.getElementById('console');
if (root) {
  render(
    <Provider value={createConsoleClient()}>
      <App />
    </Provider>,
    root,
  );
}
