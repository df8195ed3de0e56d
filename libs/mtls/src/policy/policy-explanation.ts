import type { DnFormat } from '../identity/client-identity.interface';
import type { ClientIdentity } from '../identity/client-identity.interface';
import type { ClientCertPolicy } from './client-cert-policy';
import { ALLOWED, refusal, type ClientCertDecision, type ClientCertRefusal, type PolicyRuleCode } from './client-cert-decision';

/** Why a policy admitted or refused an identity, in words, with the parts that decided. */
export interface PolicyExplanation {
  allowed: boolean;
  /** What was checked and what the certificate has: `SPIFFE ID spiffe://example.org/a is spiffe://example.org/a`. */
  reason: string;
  /** For rules and combinators: the parts, each explained (the one that decided among them). */
  parts?: PolicyExplanation[];
}

interface Described {
  /** The code a refusal (or a throw) of this policy carries when its parts do not say. */
  rule: PolicyRuleCode;
  /** In words; a policy with DN regexes says it per DN form (a string reads differently under `jdk`). */
  description: string | ((format: DnFormat) => string);
  /** The decision: ALLOWED, or the refusal with its reason. */
  decide(identity: ClientIdentity): ClientCertDecision;
  explain(identity: ClientIdentity): PolicyExplanation;
}

/** Descriptions of the policies nest-mtls made; a user's own function has none (it is described by its name). */
const registry = new WeakMap<ClientCertPolicy, Described>();

/** How a policy nest-mtls makes is described, refuses and explains (see {@link describedPolicy}). */
export interface PolicyWords {
  rule: PolicyRuleCode;
  description: string | ((format: DnFormat) => string);
  /** Why `test` said no (called only then). */
  refuse: (identity: ClientIdentity) => ClientCertRefusal;
  explain: (identity: ClientIdentity) => PolicyExplanation;
}

/**
 * Registers what a policy checks, in words, how it refuses and how it
 * explains a decision. `test` stays the fast path: calling the policy, or
 * deciding an identity it admits, builds nothing (the decision is the
 * shared ALLOWED); `refuse` runs only when `test` said no, to say why.
 */
export function describedPolicy(test: ClientCertPolicy, words: PolicyWords): ClientCertPolicy {
  const policy: ClientCertPolicy = (identity) => test(identity);
  const { rule, description, refuse, explain } = words;
  // A refusal is made once per identity (identities are cached per connection and per forwarded certificate):
  // a client refused again and again on a kept-alive connection costs no new words, however many SANs it has.
  const refusals = new WeakMap<ClientIdentity, ClientCertRefusal>();
  const refusalOf = (identity: ClientIdentity): ClientCertRefusal => {
    let refused = refusals.get(identity);
    if (!refused) refusals.set(identity, (refused = refuse(identity)));
    return refused;
  };
  registry.set(policy, { rule, description, explain, decide: (identity) => (test(identity) ? ALLOWED : refusalOf(identity)) });
  return policy;
}

/** `custom policy isAuditor`, `custom policy (anonymous function)`. */
function customName(policy: ClientCertPolicy): string {
  return `custom policy ${policy.name ? policy.name : '(anonymous function)'}`;
}

/** The refusal of a policy function of your own that returned false: one per function, made once. */
const customRefusals = new WeakMap<ClientCertPolicy, ClientCertRefusal>();

function customRefusal(policy: ClientCertPolicy): ClientCertRefusal {
  let refused = customRefusals.get(policy);
  if (!refused) {
    const name = customName(policy);
    refused = refusal('custom', name, undefined, `${name} refused it`);
    customRefusals.set(policy, refused);
  }
  return refused;
}

/**
 * What `policy` decides about `identity`: the shared `{ allowed: true }`,
 * or a refusal naming the rule that refused, what it wanted and what the
 * certificate has (what ClientCertGuard logs and counts, and `mtls explain`
 * prints). A policy function of your own that returns anything but `true`
 * is refused as `custom policy <its name> refused it`; a policy that throws
 * refuses, saying so. Never throws.
 */
export function decidePolicy(policy: ClientCertPolicy, identity: ClientIdentity): ClientCertDecision {
  const described = registry.get(policy);
  try {
    if (described) return described.decide(identity);
    return policy(identity) === true ? ALLOWED : customRefusal(policy);
  } catch (err) {
    // The reason names the rule, not the policy (it is logged); the policy is what was expected.
    const what = described ? `the ${described.rule} rule` : customName(policy);
    const expected = described ? describePolicy(policy, identity.dnFormat) : customName(policy);
    return refusal(described ? described.rule : 'custom', expected, undefined, `${what} threw (${(err as Error)?.message ?? String(err)}): refused`);
  }
}

/**
 * What a policy admits, in words: `SPIFFE ID is spiffe://example.org/home-page-service`,
 * `subject DN matches /^CN=home-page-service(,|$)/`, `any verified certificate`.
 * A policy function of your own is described by its name. `dnFormat` is the
 * application's (default `rfc4514`): under `jdk` a DN regex given as a string
 * reads `matches the Java regex "..." (the whole DN)`.
 */
export function describePolicy(policy: ClientCertPolicy, dnFormat: DnFormat = 'rfc4514'): string {
  const description = registry.get(policy)?.description;
  if (description === undefined) return customName(policy);
  return typeof description === 'function' ? description(dnFormat) : description;
}

/**
 * Whether `policy` admits `identity`, and which part of it decided, in words
 * (what `mtls explain` prints): for a refusal the reason is the one
 * {@link decidePolicy} gives. A policy that throws refuses.
 */
export function explainPolicy(policy: ClientCertPolicy, identity: ClientIdentity): PolicyExplanation {
  const described = registry.get(policy);
  if (described) {
    try {
      return described.explain(identity);
    } catch {
      // said below, as decidePolicy says it
    }
  }
  const decision = decidePolicy(policy, identity);
  return { allowed: decision.allowed, reason: decision.allowed ? `${customName(policy)} admitted it` : decision.reason };
}
