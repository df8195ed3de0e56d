/**
 * Which part of a policy refused, as a code from a fixed set (safe as a
 * metric label): the field of a rule (`subject`, `issuer`, `cn`, `ou`,
 * `dns`, `uri`, `email`, `ip`, `spiffeId`, `spiffeTrustDomain`,
 * `fingerprint256`: the builders `subjectMatches`, `hasSpiffeId`, ... use
 * the name of the field they check), `anyOf` (no alternative admitted),
 * `allOf` (an empty one), `deny` (`denyEveryClient`, what `defaultPolicy:
 * 'deny'` gives routes without a policy), or `custom` (a policy function
 * of your own).
 */
export type PolicyRuleCode =
  | 'subject'
  | 'issuer'
  | 'cn'
  | 'ou'
  | 'dns'
  | 'uri'
  | 'email'
  | 'ip'
  | 'spiffeId'
  | 'spiffeTrustDomain'
  | 'fingerprint256'
  | 'anyOf'
  | 'allOf'
  | 'deny'
  | 'custom';

/** Every rule code, in a fixed order (for metrics and docs). */
export const POLICY_RULE_CODES: readonly PolicyRuleCode[] = [
  'subject',
  'issuer',
  'cn',
  'ou',
  'dns',
  'uri',
  'email',
  'ip',
  'spiffeId',
  'spiffeTrustDomain',
  'fingerprint256',
  'anyOf',
  'allOf',
  'deny',
  'custom',
];

/** A policy admitted the identity. One shared frozen value: admitting allocates nothing. */
export interface ClientCertAdmission {
  readonly allowed: true;
}

/**
 * A policy refused the identity, and why, in the manner of go-spiffe's
 * authorizers returning an error: which rule, what the certificate has,
 * what the rule wanted. Never for the caller (who gets the 403 message
 * only); `found` never for a metric label (it is the peer's text).
 */
export interface ClientCertRefusal {
  readonly allowed: false;
  /** Which part refused (a bounded code). */
  readonly rule: PolicyRuleCode;
  /**
   * What that part admits, in words: `is spiffe://example.org/home-page-service`,
   * `matches /^CN=api,/`. It is the policy: `mtls explain` prints it, the
   * guard's log does not.
   */
  readonly expected: string;
  /** What the certificate has for it (several values joined by `, `); undefined when it has none. */
  readonly found?: string;
  /**
   * What is wrong with the caller, without the policy (what the guard logs):
   * `unexpected SPIFFE ID spiffe://example.org/event-service`,
   * `no OU in the subject`, `nobody is admitted (defaultPolicy deny)`.
   */
  readonly reason: string;
  /** For `anyOf`: why each alternative refused. */
  readonly parts?: readonly ClientCertRefusal[];
}

/**
 * What a policy decided about an identity: `{ allowed: true }`, or a
 * refusal saying which rule refused, what it wanted and what was found.
 * `decidePolicy(policy, identity)` gives it for any policy, a function of
 * your own included.
 */
export type ClientCertDecision = ClientCertAdmission | ClientCertRefusal;

/** The decision of every admission (frozen, shared). */
export const ALLOWED: ClientCertAdmission = Object.freeze({ allowed: true as const });

/** A refusal (frozen: a constant one may be shared). */
export function refusal(rule: PolicyRuleCode, expected: string, found: string | undefined, reason: string, parts?: readonly ClientCertRefusal[]): ClientCertRefusal {
  return Object.freeze(parts ? { allowed: false as const, rule, expected, found, reason, parts } : { allowed: false as const, rule, expected, found, reason });
}
