import type { ClientCertPolicy, ClientCertRequirement } from '../policy/client-cert-policy';
import { compileRequirement, requirementFromText } from '../policy/client-cert-policies';
import { MtlsConfigError } from './mtls-config.error';

const compiled = new WeakMap<object, ClientCertPolicy>();

/**
 * The `trustedProxy` option as a policy over the direct peer's certificate:
 * a RegExp, a rule or a policy function as given; a string is a DN regex, or
 * a JSON rule when it starts with `{` (what MTLS_TRUSTED_PROXY holds).
 * Throws MtlsConfigError naming the value when it does not compile.
 */
export function compileTrustedProxy(requirement: ClientCertRequirement): ClientCertPolicy {
  const key = typeof requirement === 'object' || typeof requirement === 'function' ? (requirement as object) : undefined;
  const cached = key ? compiled.get(key) : undefined;
  if (cached) return cached;
  let policy: ClientCertPolicy;
  try {
    policy = typeof requirement === 'string' ? requirementFromText(requirement, 'trustedProxy') : compileRequirement(requirement, 'trustedProxy');
  } catch (err) {
    throw new MtlsConfigError('trustedProxy', (err as Error).message.replace(/^trustedProxy:?\s*/, ''));
  }
  if (key) compiled.set(key, policy);
  return policy;
}
