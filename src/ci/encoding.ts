/**
 * The one percent-encoder of the project, shared by the signer and the wire URL so the two can never disagree.
 *
 * COS/CI encode every byte but `A-Z a-z 0-9 - _ . ~` as `%XX` (uppercase hex, space as `%20`, never `+`). That is
 * `encodeURIComponent` plus the five characters it leaves alone: `! ' ( ) *`.
 */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Builds `?k=v&k=v` in the given order with {@link percentEncode}; empty string when there are no parameters. */
export function encodeQuery(query: ReadonlyArray<readonly [string, string]>): string {
  if (query.length === 0) return '';
  return `?${query.map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`).join('&')}`;
}

/** Encodes a decoded path segment by segment, keeping the `/` separators. */
export function encodePath(path: string): string {
  return path.split('/').map(percentEncode).join('/');
}
