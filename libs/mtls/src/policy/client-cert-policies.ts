import type { ClientIdentity } from '../identity/client-identity.interface';
import type { ClientCertPolicy, ClientCertRequirement, ClientCertRule } from './client-cert-policy';

/** Any verified client certificate. */
export const anyVerifiedClient: ClientCertPolicy = () => true;

/**
 * Refuses RegExps with the `g` or `y` flag: they keep `lastIndex` between
 * calls and would alternate between allow and deny.
 */
export function toSafeRegExp(pattern: RegExp | string, where: string): RegExp {
  const re = typeof pattern === 'string' ? new RegExp(pattern) : pattern;
  if (!(re instanceof RegExp)) throw new TypeError(`${where}: expected a RegExp or a string, got ${typeof pattern}`);
  if (re.global || re.sticky) {
    throw new TypeError(`${where}: ${re} has the ${re.global ? 'g' : 'y'} flag, which keeps state between matches; remove it`);
  }
  return re;
}

/** The subject DN matches the regex (JavaScript `test`: anchor with ^...$ for a whole-DN match). */
export function subjectMatches(pattern: RegExp | string): ClientCertPolicy {
  const re = toSafeRegExp(pattern, 'subjectMatches');
  return (identity) => re.test(identity.subject);
}

function valueMatcher(entries: Array<string | RegExp>, where: string): (value: string) => boolean {
  const checks = entries.map((e) => (typeof e === 'string' ? (v: string) => v === e : ((re) => (v: string) => re.test(v))(toSafeRegExp(e, where))));
  return (value) => checks.some((check) => check(value));
}

/** A DNS SAN equals (string) or matches (RegExp) one of the entries. */
export function hasDnsName(...entries: Array<string | RegExp>): ClientCertPolicy {
  const match = valueMatcher(entries, 'hasDnsName');
  return (identity) => identity.san.dns.some(match);
}

/** A URI SAN equals or matches one of the entries. */
export function hasUri(...entries: Array<string | RegExp>): ClientCertPolicy {
  const match = valueMatcher(entries, 'hasUri');
  return (identity) => identity.san.uri.some(match);
}

/** The SPIFFE ID equals or matches one of the entries. */
export function hasSpiffeId(...entries: Array<string | RegExp>): ClientCertPolicy {
  const match = valueMatcher(entries, 'hasSpiffeId');
  return (identity) => identity.spiffeId !== undefined && match(identity.spiffeId);
}

const normalizeFingerprint = (f: string) => f.replace(/:/g, '').toUpperCase();

/** The certificate's SHA-256 fingerprint is one of the pins. */
export function fingerprintIn(...pins: string[]): ClientCertPolicy {
  const set = new Set(pins.map(normalizeFingerprint));
  return (identity) => set.has(normalizeFingerprint(identity.fingerprint256));
}

/** Allows when any policy allows. `anyOf()` with no policy allows nobody (fails closed). */
export function anyOf(...policies: ClientCertPolicy[]): ClientCertPolicy {
  return (identity) => policies.some((p) => p(identity));
}

/** Allows when every policy allows. `allOf()` with no policy allows nobody (fails closed). */
export function allOf(...policies: ClientCertPolicy[]): ClientCertPolicy {
  return (identity) => policies.length > 0 && policies.every((p) => p(identity));
}

function fromRule(rule: ClientCertRule): ClientCertPolicy {
  const parts: ClientCertPolicy[] = [];
  if (rule.subject !== undefined) parts.push(subjectMatches(rule.subject));
  if (rule.dns) parts.push(hasDnsName(...rule.dns));
  if (rule.uri) parts.push(hasUri(...rule.uri));
  if (rule.spiffeId) parts.push(hasSpiffeId(...rule.spiffeId));
  if (rule.fingerprint256) parts.push(fingerprintIn(...rule.fingerprint256));
  const unknown = Object.keys(rule).filter((k) => !['subject', 'dns', 'uri', 'spiffeId', 'fingerprint256'].includes(k));
  if (unknown.length) throw new TypeError(`@RequireClientCert: unknown rule field "${unknown[0]}"`);
  if (parts.length === 0) throw new TypeError('@RequireClientCert: an empty rule would allow every client; use @RequireClientCert() for that');
  return allOf(...parts);
}

/** Turns what @RequireClientCert was given into one policy; several requirements mean any of them. */
export function compileRequirements(requirements: ClientCertRequirement[]): ClientCertPolicy {
  if (requirements.length === 0) return anyVerifiedClient;
  const policies = requirements.map((r) => {
    if (typeof r === 'function') return r;
    if (typeof r === 'string' || r instanceof RegExp) return subjectMatches(r);
    if (r && typeof r === 'object') return fromRule(r);
    throw new TypeError(`@RequireClientCert: unsupported requirement ${String(r)}`);
  });
  return policies.length === 1 ? policies[0] : anyOf(...policies);
}

/** Exposed for tests and for guards that extend ClientCertGuard. */
export type { ClientIdentity };
