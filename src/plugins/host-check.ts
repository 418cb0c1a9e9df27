/**
 * Serves only the `Host` names it is told to. A web page on a rebinding DNS name (attacker.example resolving to
 * 127.0.0.1) reaches a developer's local gateway as a same-origin request; its `Host` still says attacker.example,
 * so refusing unknown hosts keeps real data out of that page. Probes are exempt: a kubelet sends the pod's IP.
 */
import type { Plugin } from 'graphql-yoga';

export interface HostCheckOptions {
  /** Host names (any port), lowercase; `[::1]` for IPv6 literals. */
  readonly allowedHosts: readonly string[];
  /** Paths served whatever the host. */
  readonly exemptPaths: readonly string[];
}

export function useHostCheck(options: HostCheckOptions): Plugin {
  const allowed = new Set(options.allowedHosts.map((host) => host.toLowerCase()));
  const exempt = new Set(options.exemptPaths);
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (exempt.has(url.pathname)) return;
      const host = request.headers.get('host') ?? '';
      const hostname = URL.canParse(`http://${host}`) ? new URL(`http://${host}`).hostname : '';
      if (allowed.has(hostname)) return;
      endResponse(
        new fetchAPI.Response(`Host ${JSON.stringify(host)} is not served here; see ALLOWED_HOSTS.\n`, {
          status: 421,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
        }),
      );
    },
  };
}
