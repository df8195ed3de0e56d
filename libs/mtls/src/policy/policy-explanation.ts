import type { DnFormat } from '../identity/client-identity.interface';
import type { ClientIdentity } from '../identity/client-identity.interface';
import type { ClientCertPolicy } from './client-cert-policy';

/** Why a policy admitted or refused an identity, in words, with the parts that decided. */
export interface PolicyExplanation {
  allowed: boolean;
  /** What was checked and what the certificate has: `SPIFFE ID spiffe://example.org/a is spiffe://example.org/a`. */
  reason: string;
  /** For rules and combinators: the parts, each explained (the one that decided among them). */
  parts?: PolicyExplanation[];
}

interface Described {
  /** In words; a policy with DN regexes says it per DN form (a string reads differently under `jdk`). */
  description: string | ((format: DnFormat) => string);
  explain(identity: ClientIdentity): PolicyExplanation;
}

/** Descriptions of the policies nest-mtls made; a user's own function has none (it is described by its name). */
const registry = new WeakMap<ClientCertPolicy, Described>();

/**
 * Registers what a policy checks, in words, and how it explains a decision;
 * `test` stays the fast path the guard calls on every request (no strings built).
 */
export function describedPolicy(test: ClientCertPolicy, description: string | ((format: DnFormat) => string), explain: (identity: ClientIdentity) => PolicyExplanation): ClientCertPolicy {
  const policy: ClientCertPolicy = (identity) => test(identity);
  registry.set(policy, { description, explain });
  return policy;
}

/** `custom policy isAuditor`, `custom policy (anonymous function)`. */
function customName(policy: ClientCertPolicy): string {
  return `custom policy ${policy.name ? policy.name : '(anonymous function)'}`;
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
 * (what `mtls explain` prints). A policy that throws refuses.
 */
export function explainPolicy(policy: ClientCertPolicy, identity: ClientIdentity): PolicyExplanation {
  const described = registry.get(policy);
  if (described) return described.explain(identity);
  let allowed = false;
  let threw: string | undefined;
  try {
    allowed = policy(identity) === true;
  } catch (err) {
    threw = (err as Error)?.message ?? String(err);
  }
  const what = customName(policy);
  return { allowed, reason: threw !== undefined ? `${what} threw (${threw}): refused` : `${what} ${allowed ? 'admitted' : 'refused'} it` };
}
