import type { DnFormat } from '../identity/client-identity.interface';
import type { ClientIdentity } from '../identity/client-identity.interface';
import { blockContains, formatIpBlock, parseIp, parseIpBlock, type IpBytes } from '../identity/ip-address';
import { spiffeIdProblem, trustDomainProblem } from '../identity/spiffe-id';
import { refusal, type ClientCertRefusal, type PolicyRuleCode } from './client-cert-decision';
import type { ClientCertPolicy, ClientCertRequirement, ClientCertRule, OneOrMany } from './client-cert-policy';
import { DnPattern, dnPatternsOf, withDnPatterns } from './dn-pattern';
import { decidePolicy, describePolicy, describedPolicy, explainPolicy, type PolicyExplanation } from './policy-explanation';

/** Any verified client certificate. */
export const anyVerifiedClient: ClientCertPolicy = describedPolicy(() => true, {
  rule: 'custom',
  description: 'any verified certificate',
  refuse: () => {
    throw new Error('anyVerifiedClient refuses nobody');
  },
  explain: () => ({ allowed: true, reason: 'any verified certificate is admitted' }),
});

/** The one refusal of {@link denyEveryClient}. */
const DENIED = refusal('deny', 'nobody (defaultPolicy deny)', undefined, 'nobody is admitted (defaultPolicy deny)');

/** Nobody: what routes without a policy get under a global guard with `defaultPolicy: 'deny'`. */
export const denyEveryClient: ClientCertPolicy = describedPolicy(() => false, {
  rule: 'deny',
  description: 'nobody (defaultPolicy deny)',
  refuse: () => DENIED,
  explain: () => ({ allowed: false, reason: DENIED.reason }),
});

/**
 * Refuses RegExps with the `g` or `y` flag: they keep `lastIndex` between
 * calls and would alternate between allow and deny.
 */
export function toSafeRegExp(pattern: RegExp | string, where: string): RegExp {
  let re: RegExp;
  try {
    re = typeof pattern === 'string' ? new RegExp(pattern) : pattern;
  } catch (err) {
    throw new TypeError(`${where}: "${pattern}" is not a regular expression: ${(err as Error).message}`, { cause: err });
  }
  if (!(re instanceof RegExp)) throw new TypeError(`${where}: expected a RegExp or a string, got ${typeof pattern}`);
  if (re.global || re.sticky) {
    throw new TypeError(`${where}: ${re} has the ${re.global ? 'g' : 'y'} flag, which keeps state between matches; remove it`);
  }
  return re;
}

/** One entry of a rule field: how it is described, and whether a value of the certificate matches it. */
interface Entry {
  /** `is spiffe://example.org/a`, `matches /^x/`, `in 10.0.0.0/8`; a DN regex says it per DN form. */
  text: string | ((format: DnFormat) => string);
  /** `format`: the form of the identity's DNs (only DN regexes care). */
  test(value: string, format: DnFormat): boolean;
  /** The DN regex of a subject or issuer entry. */
  dnPattern?: DnPattern;
}

const textOf = (entry: Entry, format: DnFormat): string => (typeof entry.text === 'function' ? entry.text(format) : entry.text);
const formatOf = (identity: ClientIdentity): DnFormat => identity.dnFormat ?? 'rfc4514';

/** A value of the certificate as entries see it (already normalised), and as it is shown. */
interface Value {
  shown: string;
  key: string;
}

function list<T>(value: OneOrMany<T> | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function regexEntry(pattern: RegExp | string, where: string): Entry {
  const re = toSafeRegExp(pattern, where);
  return { text: `matches ${re}`, test: (v) => re.test(v) };
}

/** A DN regex: a RegExp searches; a string is read as `dnFormat` says (see DnPattern). */
function dnEntry(pattern: RegExp | string, where: string): Entry {
  const dnPattern = new DnPattern(pattern, where);
  return { text: (format) => dnPattern.describe(format), test: (v, format) => dnPattern.test(v, format), dnPattern };
}

/**
 * Why a field of the certificate does not satisfy its rule, as go-spiffe's
 * authorizers say it (`unexpected ID ...`): `label` (`SPIFFE ID`), what the
 * certificate has (`found`, the values joined; undefined when it has none,
 * then `missing` says so), and apart from the reason, what the rule admits
 * (`expected`, without the label): the reason is what the guard logs, and
 * the log never holds a policy.
 */
function fieldRefusal(rule: PolicyRuleCode, label: string, expected: string, found: string | undefined, missing: string): ClientCertRefusal {
  return refusal(rule, expected, found, found === undefined ? missing : `unexpected ${label} ${found}`);
}

/** A refusal in full words, the policy included (what explanations say): `SPIFFE ID spiffe://a does not satisfy: SPIFFE ID is spiffe://b`. */
function fieldExplanation(label: string, refused: ClientCertRefusal): PolicyExplanation {
  const description = `${label} ${refused.expected}`;
  return { allowed: false, reason: refused.found === undefined ? `${refused.reason}; wanted: ${description}` : `${label} ${refused.found} does not satisfy: ${description}` };
}

/**
 * A policy over one kind of value of the certificate: admitted when any of
 * its values matches any entry; a refusal names `rule` (the field).
 */
function valuePolicy(rule: PolicyRuleCode, label: string, entries: Entry[], valuesOf: (identity: ClientIdentity) => Value[], missing: (identity: ClientIdentity) => string): ClientCertPolicy {
  const expected = (format: DnFormat) => entries.map((e) => textOf(e, format)).join(' or ');
  const description = (format: DnFormat) => `${label} ${expected(format)}`;
  const refuse = (identity: ClientIdentity): ClientCertRefusal => {
    const values = valuesOf(identity);
    return fieldRefusal(rule, label, expected(formatOf(identity)), values.length === 0 ? undefined : values.map((v) => v.shown).join(', '), missing(identity));
  };
  const policy = describedPolicy(
    (identity) => {
      const format = formatOf(identity);
      return valuesOf(identity).some((v) => entries.some((e) => e.test(v.key, format)));
    },
    {
      rule,
      description,
      refuse,
      explain: (identity): PolicyExplanation => {
        const format = formatOf(identity);
        for (const v of valuesOf(identity)) {
          const hit = entries.find((e) => e.test(v.key, format));
          if (hit) return { allowed: true, reason: `${label} ${v.shown} ${textOf(hit, format)}` };
        }
        return fieldExplanation(label, refuse(identity));
      },
    },
  );
  return withDnPatterns(policy, entries.flatMap((e) => (e.dnPattern ? [e.dnPattern] : [])));
}

const same = (s: string): Value => ({ shown: s, key: s });

/**
 * The subject DN matches the regex. A RegExp searches (JavaScript `test`:
 * anchor with ^...$ for a whole-DN match); a string does too, except under
 * `dnFormat: 'jdk'`, where it is a Java regex that must match the whole DN.
 */
export function subjectMatches(pattern: RegExp | string): ClientCertPolicy {
  return subjectPolicy(pattern, 'subjectMatches');
}

/** The issuer DN (the CA that signed the certificate) matches the regex (read as in {@link subjectMatches}). */
export function issuerMatches(pattern: RegExp | string): ClientCertPolicy {
  return issuerPolicy(pattern, 'issuerMatches');
}

function subjectPolicy(pattern: RegExp | string, where: string): ClientCertPolicy {
  return valuePolicy('subject', 'subject DN', [dnEntry(pattern, where)], (i) => [same(i.subject)], () => 'no subject DN');
}

function issuerPolicy(pattern: RegExp | string, where: string): ClientCertPolicy {
  return valuePolicy('issuer', 'issuer DN', [dnEntry(pattern, where)], (i) => [same(i.issuer)], () => 'no issuer DN');
}

function textEntries(entries: Array<string | RegExp>, where: string, field: string, normalize: (s: string) => string = (s) => s, check?: (s: string) => string | undefined): Entry[] {
  if (entries.length === 0) throw new TypeError(`${where}: ${field} is an empty list, which would admit nobody`);
  return entries.map((e) => {
    if (e instanceof RegExp) return regexEntry(e, `${where} ${field}`);
    if (typeof e !== 'string') throw new TypeError(`${where}: ${field} entries must be strings or RegExps, got ${typeof e}`);
    if (e.length === 0) throw new TypeError(`${where}: ${field} has an empty string`);
    const problem = check?.(e);
    if (problem) throw new TypeError(`${where}: ${field} "${e}" ${problem}`);
    const wanted = normalize(e);
    return { text: `is ${e}`, test: (v) => v === wanted };
  });
}

/** The (most specific) CN equals (string) or matches (RegExp) one of the entries. */
export function hasCommonName(...entries: Array<string | RegExp>): ClientCertPolicy {
  return commonNamePolicy(entries, 'hasCommonName');
}

function commonNamePolicy(entries: Array<string | RegExp>, where: string): ClientCertPolicy {
  return valuePolicy('cn', 'CN', textEntries(entries, where, 'cn'), (i) => (i.commonName === undefined ? [] : [same(i.commonName)]), () => 'no CN in the subject');
}

/** An OU of the subject equals or matches one of the entries. */
export function hasOrganizationalUnit(...entries: Array<string | RegExp>): ClientCertPolicy {
  return ouPolicy(entries, 'hasOrganizationalUnit');
}

function ouPolicy(entries: Array<string | RegExp>, where: string): ClientCertPolicy {
  return valuePolicy('ou', 'OU', textEntries(entries, where, 'ou'), (i) => (i.organizationalUnits ?? []).map(same), () => 'no OU in the subject');
}

const DNS_NAME = /^[A-Za-z0-9_*.-]{1,253}$/;
const dnsKey = (s: string) => s.toLowerCase().replace(/\.$/, '');

/** A DNS SAN equals (string, without regard to case) or matches (RegExp) one of the entries. */
export function hasDnsName(...entries: Array<string | RegExp>): ClientCertPolicy {
  return dnsPolicy(entries, 'hasDnsName');
}

function dnsPolicy(entries: Array<string | RegExp>, where: string): ClientCertPolicy {
  const checked = textEntries(entries, where, 'dns', dnsKey, (s) => (DNS_NAME.test(s) ? undefined : 'is not a DNS name'));
  // RegExps see the name as the certificate has it; strings compare lowercased.
  return describedPolicyFromValues('dns', 'DNS SAN', checked, entries, (i) => i.san.dns, dnsKey, () => 'no DNS SAN');
}

/** As valuePolicy, for fields whose strings compare normalised while RegExps test the value as written. */
function describedPolicyFromValues(
  rule: PolicyRuleCode,
  label: string,
  checked: Entry[],
  raw: Array<string | RegExp>,
  valuesOf: (identity: ClientIdentity) => string[],
  normalize: (s: string) => string,
  missing: () => string,
): ClientCertPolicy {
  const entries: Entry[] = checked.map((entry, n) => {
    const original = raw[n];
    if (original instanceof RegExp) return entry;
    return { text: entry.text, test: (v, format) => entry.test(normalize(v), format) };
  });
  return valuePolicy(rule, label, entries, (i) => valuesOf(i).map(same), missing);
}

/** A URI SAN equals or matches one of the entries. */
export function hasUri(...entries: Array<string | RegExp>): ClientCertPolicy {
  return uriPolicy(entries, 'hasUri');
}

function uriPolicy(entries: Array<string | RegExp>, where: string): ClientCertPolicy {
  return valuePolicy('uri', 'URI SAN', textEntries(entries, where, 'uri', (s) => s, (s) => (/\s/.test(s) ? 'has white space' : undefined)), (i) => i.san.uri.map(same), () => 'no URI SAN');
}

const EMAIL = /^[^@\s]+@[^@\s]+$/;
const emailKey = (s: string) => {
  const at = s.lastIndexOf('@');
  return at < 0 ? s : s.slice(0, at) + s.slice(at).toLowerCase();
};

/** An e-mail SAN (rfc822Name) equals (the domain without regard to case) or matches one of the entries. */
export function hasEmail(...entries: Array<string | RegExp>): ClientCertPolicy {
  return emailPolicy(entries, 'hasEmail');
}

function emailPolicy(entries: Array<string | RegExp>, where: string): ClientCertPolicy {
  const checked = textEntries(entries, where, 'email', emailKey, (s) => (EMAIL.test(s) ? undefined : 'is not an e-mail address (local@domain)'));
  return describedPolicyFromValues('email', 'email SAN', checked, entries, (i) => i.san.email, emailKey, () => 'no e-mail SAN');
}

/** The IP SANs of an identity as bytes (parsed once per identity). */
const ipsOf = new WeakMap<ClientIdentity, Array<{ text: string; bytes: IpBytes }>>();
function ipValues(identity: ClientIdentity): Array<{ text: string; bytes: IpBytes }> {
  let ips = ipsOf.get(identity);
  if (!ips) {
    ips = identity.san.ip.flatMap((text) => {
      const bytes = parseIp(text);
      return bytes ? [{ text, bytes }] : [];
    });
    ipsOf.set(identity, ips);
  }
  return ips;
}

/**
 * An IP SAN is one of the addresses or lies in one of the CIDR blocks
 * (IPv4 and IPv6; IPv4-mapped IPv6 counts as IPv4, on both sides).
 */
export function hasIpAddress(...entries: string[]): ClientCertPolicy {
  return ipPolicy(entries, 'hasIpAddress');
}

function ipPolicy(entries: string[], where: string): ClientCertPolicy {
  if (entries.length === 0) throw new TypeError(`${where}: ip is an empty list, which would admit nobody`);
  const blocks = entries.map((e) => {
    if (typeof e !== 'string') throw new TypeError(`${where}: ip entries must be strings (an address or CIDR block), got ${(e as unknown) instanceof RegExp ? 'a RegExp' : typeof e}`);
    try {
      return parseIpBlock(e);
    } catch (err) {
      throw new TypeError(`${where}: ip ${(err as Error).message}`, { cause: err });
    }
  });
  const texts = blocks.map((b) => `${b.prefix === b.bytes.length * 8 ? 'is' : 'in'} ${formatIpBlock(b)}`);
  const expected = texts.join(' or ');
  const refuse = (identity: ClientIdentity) => {
    const ips = ipValues(identity);
    return fieldRefusal('ip', 'IP SAN', expected, ips.length === 0 ? undefined : ips.map((ip) => ip.text).join(', '), 'no IP SAN');
  };
  return describedPolicy((identity) => ipValues(identity).some((ip) => blocks.some((b) => blockContains(b, ip.bytes))), {
    rule: 'ip',
    description: `IP SAN ${expected}`,
    refuse,
    explain: (identity) => {
      for (const ip of ipValues(identity)) {
        const n = blocks.findIndex((b) => blockContains(b, ip.bytes));
        if (n >= 0) return { allowed: true, reason: `IP SAN ${ip.text} ${texts[n]}` };
      }
      return fieldExplanation('IP SAN', refuse(identity));
    },
  });
}

/** Why an identity has no SPIFFE ID, for explanations. */
function noSpiffeId(identity: ClientIdentity): string {
  const uris = identity.san.uri.length;
  if (uris === 0) return 'no SPIFFE ID (no URI SAN)';
  if (uris > 1) return `no SPIFFE ID (${uris} URI SANs; an X509-SVID has exactly one)`;
  return `no SPIFFE ID (the URI SAN ${identity.san.uri[0]} is not a valid SPIFFE ID)`;
}

function spiffeEntry(e: string | RegExp, where: string): Entry {
  if (e instanceof RegExp) return regexEntry(e, `${where} spiffeId`);
  if (typeof e !== 'string') throw new TypeError(`${where}: spiffeId entries must be strings or RegExps, got ${typeof e}`);
  if (e.endsWith('/*')) {
    const base = e.slice(0, -2);
    const problem = base.includes('*') ? 'has a * that is not the last segment' : spiffeIdProblem(base);
    if (problem) throw new TypeError(`${where}: spiffeId "${e}" is not a SPIFFE ID prefix: ${problem}`);
    const prefix = `${base}/`;
    return { text: `is under ${prefix}`, test: (v) => v.startsWith(prefix) };
  }
  const problem = e.includes('*') ? 'a * is only allowed as a last segment /*' : spiffeIdProblem(e);
  if (problem) throw new TypeError(`${where}: spiffeId "${e}" is not a SPIFFE ID: ${problem}`);
  return { text: `is ${e}`, test: (v) => v === e };
}

/**
 * The SPIFFE ID is one of the entries, compared whole (a trailing `/*`
 * admits every ID below that path, by whole segments), or matches a RegExp.
 */
export function hasSpiffeId(...entries: Array<string | RegExp>): ClientCertPolicy {
  return spiffeIdPolicy(entries, 'hasSpiffeId');
}

function spiffeIdPolicy(entries: Array<string | RegExp>, where: string): ClientCertPolicy {
  if (entries.length === 0) throw new TypeError(`${where}: spiffeId is an empty list, which would admit nobody`);
  return valuePolicy('spiffeId', 'SPIFFE ID', entries.map((e) => spiffeEntry(e, where)), (i) => (i.spiffeId === undefined ? [] : [same(i.spiffeId)]), noSpiffeId);
}

/** The SPIFFE ID belongs to one of the trust domains (`example.org` or `spiffe://example.org`). */
export function inTrustDomain(...domains: string[]): ClientCertPolicy {
  return trustDomainPolicy(domains, 'inTrustDomain');
}

function trustDomainPolicy(domains: string[], where: string): ClientCertPolicy {
  if (domains.length === 0) throw new TypeError(`${where}: spiffeTrustDomain is an empty list, which would admit nobody`);
  const entries = domains.map((d): Entry => {
    if (typeof d !== 'string') throw new TypeError(`${where}: spiffeTrustDomain entries must be strings, got ${(d as unknown) instanceof RegExp ? 'a RegExp' : typeof d}`);
    const name = d.startsWith('spiffe://') ? d.slice('spiffe://'.length) : d;
    const problem = trustDomainProblem(name);
    if (problem) throw new TypeError(`${where}: spiffeTrustDomain "${d}" is not a trust domain: ${problem}`);
    return { text: `is ${name}`, test: (v) => v === name };
  });
  const domainOf = (identity: ClientIdentity): Value[] => {
    if (identity.spiffeId === undefined) return [];
    const rest = identity.spiffeId.slice('spiffe://'.length);
    const slash = rest.indexOf('/');
    return [same(slash < 0 ? rest : rest.slice(0, slash))];
  };
  return valuePolicy('spiffeTrustDomain', 'SPIFFE trust domain', entries, domainOf, noSpiffeId);
}

const FINGERPRINT_PLAIN = /^[0-9A-Fa-f]{64}$/;
const FINGERPRINT_COLONS = /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/;
const fingerprintKey = (f: string) => f.replace(/:/g, '').toUpperCase();

/** The certificate's SHA-256 fingerprint is one of the pins (64 hex digits, either case, colons optional). */
export function fingerprintIn(...pins: string[]): ClientCertPolicy {
  return fingerprintPolicy(pins, 'fingerprintIn');
}

function fingerprintPolicy(pins: string[], where: string): ClientCertPolicy {
  if (pins.length === 0) throw new TypeError(`${where}: fingerprint256 is an empty list, which would admit nobody`);
  const entries = pins.map((pin): Entry => {
    if (typeof pin !== 'string' || !(FINGERPRINT_PLAIN.test(pin) || FINGERPRINT_COLONS.test(pin))) {
      throw new TypeError(`${where}: fingerprint256 "${String(pin)}" is not a SHA-256 fingerprint (64 hex digits, or 32 pairs joined by ":")`);
    }
    const wanted = fingerprintKey(pin);
    return { text: `is ${wanted}`, test: (v) => v === wanted };
  });
  return valuePolicy('fingerprint256', 'SHA-256 fingerprint', entries, (i) => [{ shown: fingerprintKey(i.fingerprint256), key: fingerprintKey(i.fingerprint256) }], () => 'no fingerprint');
}

/** Allows when any policy allows. `anyOf()` with no policy allows nobody (fails closed). */
export function anyOf(...policies: ClientCertPolicy[]): ClientCertPolicy {
  const description = (format: DnFormat) =>
    policies.length === 0 ? 'nobody (an empty anyOf)' : policies.length === 1 ? describePolicy(policies[0], format) : `any of: ${policies.map((p) => `(${describePolicy(p, format)})`).join(' or ')}`;
  const refuse = (identity: ClientIdentity): ClientCertRefusal => {
    const expected = description(formatOf(identity));
    if (policies.length === 0) return refusal('anyOf', expected, undefined, 'an empty anyOf admits nobody');
    const parts = policies.map((p) => decidePolicy(p, identity)).filter((d): d is ClientCertRefusal => !d.allowed);
    // Every alternative refused when the test ran; one that admits now (a function of your own that changed its mind) does not undo that.
    if (parts.length === 1 && policies.length === 1) return parts[0];
    return refusal('anyOf', expected, undefined, `no alternative admits it: ${parts.map((p) => p.reason).join('; ')}`, parts);
  };
  const policy = describedPolicy((identity) => policies.some((p) => p(identity)), {
    rule: 'anyOf',
    description,
    refuse,
    explain: (identity) => {
      const parts = policies.map((p) => explainPolicy(p, identity));
      const decided = parts.find((p) => p.allowed);
      if (decided) return { allowed: true, reason: decided.reason, parts };
      return { allowed: false, reason: policies.length === 0 ? refuse(identity).reason : 'no alternative admits it', parts };
    },
  });
  return withDnPatterns(policy, policies.flatMap(dnPatternsOf));
}

/** Allows when every policy allows. `allOf()` with no policy allows nobody (fails closed). A refusal is the first refusing part's. */
export function allOf(...policies: ClientCertPolicy[]): ClientCertPolicy {
  const description = (format: DnFormat) => (policies.length === 0 ? 'nobody (an empty allOf)' : policies.map((p) => describePolicy(p, format)).join(' and '));
  const refuse = (identity: ClientIdentity): ClientCertRefusal => {
    if (policies.length === 0) return refusal('allOf', description(formatOf(identity)), undefined, 'an empty allOf admits nobody');
    for (const p of policies) {
      const decision = decidePolicy(p, identity);
      if (!decision.allowed) return decision;
    }
    // A part refused when the test ran and admits now (a function of your own that changed its mind): still refused.
    return refusal('allOf', description(formatOf(identity)), undefined, 'a part refused it, then admitted it: refused');
  };
  const policy = describedPolicy((identity) => policies.length > 0 && policies.every((p) => p(identity)), {
    rule: 'allOf',
    description,
    refuse,
    explain: (identity) => {
      if (policies.length === 0) return { allowed: false, reason: refuse(identity).reason, parts: [] };
      const parts = policies.map((p) => explainPolicy(p, identity));
      const failed = parts.find((p) => !p.allowed);
      return failed ? { allowed: false, reason: failed.reason, parts } : { allowed: true, reason: parts.map((p) => p.reason).join('; '), parts };
    },
  });
  return withDnPatterns(policy, policies.flatMap(dnPatternsOf));
}

const RULE_FIELDS = ['subject', 'issuer', 'cn', 'ou', 'dns', 'uri', 'email', 'ip', 'spiffeId', 'spiffeTrustDomain', 'fingerprint256'] as const;

/** A rule as one policy: every field given must match. Throws a TypeError naming `where`, the field and the value. */
export function compileRule(rule: ClientCertRule, where = '@RequireClientCert'): ClientCertPolicy {
  const unknown = Object.keys(rule).filter((k) => !(RULE_FIELDS as readonly string[]).includes(k));
  if (unknown.length) throw new TypeError(`${where}: unknown rule field "${unknown[0]}" (fields: ${RULE_FIELDS.join(', ')})`);
  const parts: ClientCertPolicy[] = [];
  const field = <T>(value: OneOrMany<T> | undefined, make: (entries: T[]) => ClientCertPolicy) => {
    if (value !== undefined) parts.push(make(list(value)));
  };
  if (rule.subject !== undefined) parts.push(subjectPolicy(rule.subject, `${where} subject`));
  if (rule.issuer !== undefined) parts.push(issuerPolicy(rule.issuer, `${where} issuer`));
  field(rule.cn, (e) => commonNamePolicy(e, where));
  field(rule.ou, (e) => ouPolicy(e, where));
  field(rule.dns, (e) => dnsPolicy(e, where));
  field(rule.uri, (e) => uriPolicy(e, where));
  field(rule.email, (e) => emailPolicy(e, where));
  field(rule.ip, (e) => ipPolicy(e, where));
  field(rule.spiffeId, (e) => spiffeIdPolicy(e, where));
  field(rule.spiffeTrustDomain, (e) => trustDomainPolicy(e, where));
  field(rule.fingerprint256, (e) => fingerprintPolicy(e, where));
  if (parts.length === 0) throw new TypeError(`${where}: an empty rule would allow every client; use @RequireClientCert() for that`);
  return parts.length === 1 ? parts[0] : allOf(...parts);
}

/** One requirement (a DN regex or its source, a rule, a policy function) as a policy. */
export function compileRequirement(requirement: ClientCertRequirement, where = '@RequireClientCert'): ClientCertPolicy {
  if (typeof requirement === 'function') return requirement;
  if (typeof requirement === 'string' || requirement instanceof RegExp) return subjectPolicy(requirement, where);
  if (requirement && typeof requirement === 'object' && !Array.isArray(requirement)) return compileRule(requirement, where);
  throw new TypeError(`${where}: unsupported requirement ${Array.isArray(requirement) ? 'an array (pass the entries as separate arguments)' : String(requirement)}`);
}

/** Turns what @RequireClientCert was given into one policy; several requirements mean any of them. */
export function compileRequirements(requirements: ClientCertRequirement[], where = '@RequireClientCert'): ClientCertPolicy {
  if (requirements.length === 0) return anyVerifiedClient;
  const policies = requirements.map((r) => compileRequirement(r, where));
  return policies.length === 1 ? policies[0] : anyOf(...policies);
}

/**
 * A requirement written as text, as `MTLS_TRUSTED_PROXY` and
 * `mtls explain --policy` take it: a JSON rule when it starts with `{`
 * (`{"spiffeId":["spiffe://example.org/envoy"]}`; `subject` and `issuer` are
 * regex sources), otherwise the source of a subject DN regex.
 */
export function requirementFromText(text: string, where: string): ClientCertPolicy {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return compileRequirement(trimmed, where);
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (err) {
    throw new TypeError(`${where}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError(`${where}: expected a JSON object (a rule)`);
  return compileRule(parsed, where);
}

/** Exposed for tests and for guards that extend ClientCertGuard. */
export type { ClientIdentity };
