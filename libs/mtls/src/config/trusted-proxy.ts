import type { ClientCertPolicy, ClientCertRequirement, ClientCertRule } from '../policy/client-cert-policy';
import { compileRequirement, requirementFromText, toSafeRegExp } from '../policy/client-cert-policies';
import { checkPolicyDnPatterns } from '../policy/dn-pattern';
import { unanchoredProblem } from './anchored-regex';
import { MtlsConfigError } from '../errors/mtls-config.error';
import type { DnFormat } from './mtls-options.interface';

const compiled = new WeakMap<object, ClientCertPolicy>();

/** Rule fields whose entries may be RegExps (`subject` and `issuer` always are). */
const REGEX_FIELDS = ['subject', 'issuer', 'cn', 'ou', 'dns', 'uri', 'email', 'spiffeId'] as const;

/**
 * The `trustedProxy` option as a policy over the direct peer's certificate:
 * a RegExp, a rule or a policy function as given; a string is a DN regex, or
 * a JSON rule when it starts with `{` (what MTLS_TRUSTED_PROXY holds). Its DN
 * regexes given as strings are read as `dnFormat` says (under `jdk`, Java
 * regexes matching the whole DN).
 * Throws MtlsConfigError naming the value when it does not compile, or when
 * a regex of it is not anchored at both ends (`^...$`; a string under `jdk`
 * matches the whole DN anyway): the trusted proxy speaks for every caller,
 * so `CN=envoy` admitting `CN=envoy-canary` as a proxy would let any holder
 * of such a certificate be anyone. Refused rather than warned about: a
 * warning scrolls by, the escalation stays.
 */
export function compileTrustedProxy(requirement: ClientCertRequirement, dnFormat: DnFormat = 'rfc4514'): ClientCertPolicy {
  const key = typeof requirement === 'object' || typeof requirement === 'function' ? requirement : undefined;
  let policy = key ? compiled.get(key) : undefined;
  try {
    if (!policy) policy = typeof requirement === 'string' ? requirementFromText(requirement, 'trustedProxy') : compileRequirement(requirement, 'trustedProxy');
    checkPolicyDnPatterns(policy, dnFormat, 'trustedProxy');
  } catch (err) {
    throw new MtlsConfigError('trustedProxy', (err as Error).message.replace(/^trustedProxy:?\s*/, ''));
  }
  for (const [where, re] of proxyRegexes(requirement, dnFormat)) {
    const problem = unanchoredProblem(re);
    if (problem) {
      throw new MtlsConfigError(
        'trustedProxy',
        `${where}${re} is not anchored at both ends (${problem}): it admits longer names as the proxy too, and the proxy speaks for every caller; anchor it (^CN=envoy,O=mesh$) or use a rule such as {"spiffeId":"spiffe://example.org/envoy"}`,
      );
    }
  }
  if (key) compiled.set(key, policy);
  return policy;
}

/** Every regex of a trusted-proxy requirement (compiled already, so each is valid), with where it is for messages. */
function proxyRegexes(requirement: ClientCertRequirement, dnFormat: DnFormat): Array<[where: string, re: RegExp]> {
  const wholeMatch = dnFormat === 'jdk'; // a string is then a Java regex that matches the whole DN: anchored by construction
  if (typeof requirement === 'function') return []; // a policy function cannot be inspected
  if (requirement instanceof RegExp) return [['', requirement]];
  let rule: ClientCertRule;
  if (typeof requirement === 'string') {
    const text = requirement.trim();
    if (!text.startsWith('{')) return wholeMatch ? [] : [['', toSafeRegExp(text, 'trustedProxy')]];
    rule = JSON.parse(text) as ClientCertRule; // parsed once already by requirementFromText
  } else {
    rule = requirement;
  }
  const out: Array<[string, RegExp]> = [];
  for (const field of REGEX_FIELDS) {
    const value = rule[field] as unknown;
    const entries = value === undefined ? [] : Array.isArray(value) ? value : [value];
    for (const entry of entries) {
      if (entry instanceof RegExp) out.push([`${field} `, entry]);
      else if (typeof entry === 'string' && (field === 'subject' || field === 'issuer') && !wholeMatch) out.push([`${field} `, toSafeRegExp(entry, 'trustedProxy')]);
    }
  }
  return out;
}
