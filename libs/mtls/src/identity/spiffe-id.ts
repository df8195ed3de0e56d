/**
 * SPIFFE IDs as the SPIFFE-ID standard defines them: `spiffe://` + a trust
 * domain of lowercase letters, digits, `.`, `-` and `_`, then an optional
 * path of segments of letters, digits, `.`, `-` and `_` (none empty, none
 * `.` or `..`, no trailing `/`); no port, user info, query or fragment.
 * Parsed by hand, never with `URL` (which would normalise `..` and case).
 */

/** A SPIFFE ID taken apart: `spiffe://example.org/ns/prod` is `example.org` and `['ns', 'prod']`. */
export interface SpiffeId {
  trustDomain: string;
  segments: string[];
}

const SCHEME = 'spiffe://';
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_LENGTH = 2048;

/** Why `value` is not a SPIFFE ID, or undefined when it is one. */
export function spiffeIdProblem(value: string): string | undefined {
  if (typeof value !== 'string') return 'not a string';
  if (value.length > MAX_LENGTH) return `longer than ${MAX_LENGTH} characters`;
  if (!value.startsWith(SCHEME)) return 'it must start with spiffe:// (lowercase)';
  const rest = value.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  const problem = trustDomainProblem(trustDomain);
  if (problem) return problem;
  if (slash < 0) return undefined;
  const path = rest.slice(slash + 1);
  if (path.length === 0) return 'the path must not end with /';
  for (const segment of path.split('/')) {
    if (segment.length === 0) return path.endsWith('/') ? 'the path must not end with /' : 'the path has an empty segment (//)';
    if (segment === '.' || segment === '..') return `the path has a "${segment}" segment`;
    if (!SEGMENT.test(segment)) return `the path segment "${segment}" has characters other than letters, digits, ".", "-" and "_"`;
  }
  return undefined;
}

/** Why `value` is not a trust domain name (`example.org`), or undefined. */
export function trustDomainProblem(value: string): string | undefined {
  if (value.length === 0) return 'the trust domain is empty';
  if (value.length > 255) return 'the trust domain is longer than 255 characters';
  if (value.includes(':')) return 'the trust domain must not have a port or user info';
  if (value.includes('@')) return 'the trust domain must not have user info';
  if (!TRUST_DOMAIN.test(value)) {
    return /[A-Z]/.test(value) ? 'the trust domain must be lowercase' : 'the trust domain has characters other than a-z, 0-9, ".", "-" and "_"';
  }
  return undefined;
}

/** The parts of a valid SPIFFE ID; undefined when `value` is not one. */
export function parseSpiffeId(value: string): SpiffeId | undefined {
  if (spiffeIdProblem(value) !== undefined) return undefined;
  const rest = value.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? { trustDomain: rest, segments: [] } : { trustDomain: rest.slice(0, slash), segments: rest.slice(slash + 1).split('/') };
}

/**
 * The SPIFFE ID of a certificate with these URI SANs, following the X509-SVID
 * standard: an SVID has exactly one URI SAN, and it is a SPIFFE ID. A
 * certificate with several URI SANs, or whose only URI is not a valid SPIFFE
 * ID, has none (go-spiffe refuses such certificates too).
 */
export function spiffeIdOfUris(uris: readonly string[]): string | undefined {
  if (uris.length !== 1) return undefined;
  return spiffeIdProblem(uris[0]) === undefined ? uris[0] : undefined;
}
