/**
 * The OAuth scopes reading and changing things need, unless configured otherwise. One place, because the schema
 * declares them to the router (`@requiresScopes`), the gateway checks them, and the configuration defaults to them.
 */
export interface Scopes {
  readonly read: string;
  readonly write: string;
}

export const DEFAULT_SCOPES: Scopes = { read: 'ci.workflows.read', write: 'ci.workflows.write' };
