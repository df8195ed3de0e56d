import { X509Certificate } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ClientIdentity } from '../identity/client-identity.interface';
import { IdentityCache } from '../identity/identity-cache';
import { identityFromCertificate } from '../identity/identity-from-certificate';
import { compileRequirement } from '../policy/client-cert-policies';
import { checkPolicyDnPatterns } from '../policy/dn-pattern';
import type { ClientCertPolicy, ClientCertRequirement } from '../policy/client-cert-policy';
import { describePolicy } from '../policy/policy-explanation';

/** A requirement on the server's certificate, compiled, with the key that keeps its connections and sessions apart. */
export interface ServerIdentityRule {
  policy: ClientCertPolicy;
  /** Stable for equal rules (so an inline `{ spiffeId: ... }` per call reuses connections); part of the pool's connection name. */
  key: string;
  /** In words, for messages: `SPIFFE ID is spiffe://example.org/user-service`. */
  expected: string;
}

/**
 * The server's certificate is not the identity the call requires (the
 * hostname matched): `expected` in words, `found` as the certificate names
 * itself. MtlsHttpClient turns it into an MtlsClientError of kind `tls`.
 */
export class ServerIdentityMismatchError extends Error {
  readonly code = 'ERR_MTLS_SERVER_IDENTITY';
  constructor(
    readonly expected: string,
    readonly found: string,
  ) {
    super(`the server's certificate is not the expected identity: expected ${expected}, found ${found}`);
    this.name = 'ServerIdentityMismatchError';
  }
}

const compiled = new LRUCache<string, ServerIdentityRule>({ max: 256 });
const functionIds = new WeakMap<object, number>();
let nextFunctionId = 1;

/** A text that is equal for equal rules: RegExps as `/source/flags`, object keys sorted, functions by identity. */
function canonical(value: unknown): string {
  if (value instanceof RegExp) return `re:${String(value)}`;
  if (typeof value === 'function') {
    let id = functionIds.get(value);
    if (id === undefined) functionIds.set(value, (id = nextFunctionId++));
    return `fn:${id}`;
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The requirement of a call on the server's certificate, compiled once per
 * distinct rule (values checked as for `@RequireClientCert`; a bad one
 * throws a TypeError naming it).
 */
export function serverIdentityRule(requirement: ClientCertRequirement): ServerIdentityRule {
  const key = canonical(requirement);
  let rule = compiled.get(key);
  if (!rule) {
    const policy = compileRequirement(requirement, 'serverIdentity');
    checkPolicyDnPatterns(policy, 'rfc4514', 'serverIdentity'); // the server's DNs are RFC 4514: a string must be a JavaScript regex
    rule = { policy, key, expected: describePolicy(policy) };
    compiled.set(key, rule);
  }
  return rule;
}

const identities = new IdentityCache<ClientIdentity | Error>(256);

/** The identity of a server certificate (DER), parsed once per certificate; an Error when it cannot be read. */
export function serverIdentityOf(raw: Buffer, fingerprint256: string): ClientIdentity | Error {
  return identities.get(fingerprint256, () => {
    try {
      return identityFromCertificate(new X509Certificate(raw));
    } catch (err) {
      return err as Error;
    }
  });
}

/** How a server's certificate names itself, for messages: its SPIFFE ID and subject, and DNS SANs when it has no SPIFFE ID. */
export function describeServer(identity: ClientIdentity): string {
  if (identity.spiffeId) return `${identity.spiffeId} (${identity.subject})`;
  const dns = identity.san.dns.length > 0 ? `, DNS ${identity.san.dns.slice(0, 4).join(', ')}` : '';
  const uris = identity.san.uri.length > 1 ? `, ${identity.san.uri.length} URI SANs (no SPIFFE ID)` : '';
  return `${identity.subject}${dns}${uris}`;
}

/** Why the server's identity does not satisfy `rule`, or undefined when it does. */
export function serverIdentityProblem(rule: ServerIdentityRule, identity: ClientIdentity | Error): ServerIdentityMismatchError | undefined {
  if (identity instanceof Error) return new ServerIdentityMismatchError(rule.expected, `a certificate whose names cannot be read (${identity.message})`);
  let allowed: boolean;
  try {
    allowed = rule.policy(identity) === true;
  } catch {
    allowed = false;
  }
  return allowed ? undefined : new ServerIdentityMismatchError(rule.expected, describeServer(identity));
}
