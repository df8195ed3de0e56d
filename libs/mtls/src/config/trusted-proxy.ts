import type { ClientCertPolicy, ClientCertRequirement } from '../policy/client-cert-policy';
import { compileRequirement, requirementFromText } from '../policy/client-cert-policies';
import { checkPolicyDnPatterns } from '../policy/dn-pattern';
import { MtlsConfigError } from './mtls-config.error';
import type { DnFormat } from './mtls-options.interface';

const compiled = new WeakMap<object, ClientCertPolicy>();

/**
 * The `trustedProxy` option as a policy over the direct peer's certificate:
 * a RegExp, a rule or a policy function as given; a string is a DN regex, or
 * a JSON rule when it starts with `{` (what MTLS_TRUSTED_PROXY holds). Its DN
 * regexes given as strings are read as `dnFormat` says (under `jdk`, Java
 * regexes matching the whole DN).
 * Throws MtlsConfigError naming the value when it does not compile.
 */
export function compileTrustedProxy(requirement: ClientCertRequirement, dnFormat: DnFormat = 'rfc4514'): ClientCertPolicy {
  const key = typeof requirement === 'object' || typeof requirement === 'function' ? (requirement as object) : undefined;
  let policy = key ? compiled.get(key) : undefined;
  try {
    if (!policy) policy = typeof requirement === 'string' ? requirementFromText(requirement, 'trustedProxy') : compileRequirement(requirement, 'trustedProxy');
    checkPolicyDnPatterns(policy, dnFormat, 'trustedProxy');
  } catch (err) {
    throw new MtlsConfigError('trustedProxy', (err as Error).message.replace(/^trustedProxy:?\s*/, ''));
  }
  if (key) compiled.set(key, policy);
  return policy;
}
