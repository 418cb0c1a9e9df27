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

/**
 * Builds `?k=v&k=v` in the given order with {@link percentEncode}; empty string when there are no parameters. A
 * parameter with an empty value is a bare flag (`?paused`), as CI writes them; it is signed as `paused=`.
 */
export function encodeQuery(query: ReadonlyArray<readonly [string, string]>): string {
  if (query.length === 0) return '';
  const pairs = query.map(([key, value]) =>
    value === '' ? percentEncode(key) : `${percentEncode(key)}=${percentEncode(value)}`,
  );
  return `?${pairs.join('&')}`;
}

/** Encodes a decoded path segment by segment, keeping the `/` separators. */
export function encodePath(path: string): string {
  return path.split('/').map(percentEncode).join('/');
}
