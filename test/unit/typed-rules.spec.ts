import { Controller, Get } from '@nestjs/common';
import type { ClientIdentity } from 'nest-mtls/internal';
import { RequireClientCert, describePolicy, explainPolicy, hasIpAddress, hasSpiffeId, inTrustDomain } from 'nest-mtls';
import { compileRequirements, requirementFromText } from 'nest-mtls/internal';
import { formatIp, normalizeIp, parseIpBlock } from 'nest-mtls/internal';
import { spiffeIdOfUris, spiffeIdProblem } from 'nest-mtls/internal';

const FP = 'A3:1E:93:F9:F1:59:41:50:01:EE:54:4D:0A:DA:58:09:43:0F:E2:9D:10:37:19:12:DC:03:DA:AE:E3:52:1F:8D';

function who(extra: Partial<Omit<ClientIdentity, 'san'>> & { san?: Partial<ClientIdentity['san']> } = {}): ClientIdentity {
  const { san, ...rest } = extra;
  const uri = san?.uri ?? [];
  return {
    subject: 'CN=web,OU=payments,O=Example',
    issuer: 'CN=Payments Issuing CA,O=Example',
    commonName: 'web',
    organizationalUnits: ['payments'],
    san: { dns: [], uri, ip: [], email: [], ...san },
    spiffeId: spiffeIdOfUris(uri),
    serialNumber: '01',
    fingerprint256: FP,
    validFrom: new Date(0),
    validTo: new Date(0),
    certificate: undefined as never,
    ...rest,
  };
}
const rule = (r: object) => compileRequirements([r]);

describe('SPIFFE IDs', () => {
  it('are checked against the SPIFFE-ID standard', () => {
    expect(spiffeIdProblem('spiffe://example.org/ns/prod/sa/web')).toBeUndefined();
    expect(spiffeIdProblem('spiffe://example.org')).toBeUndefined();
    expect(spiffeIdProblem('spiffe://Example.org/x')).toMatch(/lowercase/);
    expect(spiffeIdProblem('SPIFFE://example.org/x')).toMatch(/spiffe:\/\//);
    expect(spiffeIdProblem('spiffe://example.org/a//b')).toMatch(/empty segment/);
    expect(spiffeIdProblem('spiffe://example.org/a/')).toMatch(/end with \//);
    expect(spiffeIdProblem('spiffe://example.org/a/../b')).toMatch(/"\.\." segment/);
    expect(spiffeIdProblem('spiffe://example.org:8443/a')).toMatch(/port/);
    expect(spiffeIdProblem('spiffe://user@example.org/a')).toMatch(/user info/);
    expect(spiffeIdProblem('spiffe://example.org/a?b=c')).toMatch(/"a\?b=c"/);
    expect(spiffeIdProblem('spiffe:///a')).toMatch(/empty/);
  });

  it('match whole: neither home-page-service-evil nor home-page-service/evil passes as home-page-service', () => {
    const p = rule({ spiffeId: 'spiffe://example.org/home-page-service' });
    expect(p(who({ san: { uri: ['spiffe://example.org/home-page-service'] } }))).toBe(true);
    expect(p(who({ san: { uri: ['spiffe://example.org/home-page-service-evil'] } }))).toBe(false);
    expect(p(who({ san: { uri: ['spiffe://example.org/home-page-service/evil'] } }))).toBe(false);
    expect(p(who({ san: { uri: ['spiffe://example.org.evil/home-page-service'] } }))).toBe(false);
  });

  it('a trailing /* admits IDs below the path by whole segments', () => {
    const p = rule({ spiffeId: ['spiffe://example.org/ns/prod/*'] });
    expect(p(who({ san: { uri: ['spiffe://example.org/ns/prod/sa/web'] } }))).toBe(true);
    expect(p(who({ san: { uri: ['spiffe://example.org/ns/prod/web'] } }))).toBe(true);
    expect(p(who({ san: { uri: ['spiffe://example.org/ns/prod'] } }))).toBe(false);
    expect(p(who({ san: { uri: ['spiffe://example.org/ns/production/web'] } }))).toBe(false);
    expect(() => rule({ spiffeId: 'spiffe://example.org/ns/*/web' })).toThrow(/"spiffe:\/\/example.org\/ns\/\*\/web" is not a SPIFFE ID: a \* is only allowed as a last segment/);
    expect(() => rule({ spiffeId: 'spiffe://example.org/ns*' })).toThrow(/only allowed as a last segment/);
  });

  it('a certificate with several URI SANs has no SPIFFE ID (X509-SVID), though its URIs still match uri rules', () => {
    const twoUris = who({ san: { uri: ['spiffe://example.org/home-page-service', 'spiffe://example.org/other'] } });
    expect(twoUris.spiffeId).toBeUndefined();
    expect(rule({ spiffeId: 'spiffe://example.org/home-page-service' })(twoUris)).toBe(false);
    expect(rule({ spiffeTrustDomain: 'example.org' })(twoUris)).toBe(false);
    expect(rule({ uri: 'spiffe://example.org/other' })(twoUris)).toBe(true);
    expect(explainPolicy(rule({ spiffeId: 'spiffe://example.org/home-page-service' }), twoUris).reason).toMatch(/2 URI SANs; an X509-SVID has exactly one/);
  });

  it('spiffeTrustDomain admits every ID of the domain, written bare or as spiffe://', () => {
    for (const domain of ['example.org', 'spiffe://example.org']) {
      const p = rule({ spiffeTrustDomain: domain });
      expect(p(who({ san: { uri: ['spiffe://example.org/anything/at/all'] } }))).toBe(true);
      expect(p(who({ san: { uri: ['spiffe://example.org'] } }))).toBe(true);
      expect(p(who({ san: { uri: ['spiffe://example.org.evil/x'] } }))).toBe(false);
      expect(p(who({ san: { uri: ['spiffe://evil.example.org/x'] } }))).toBe(false);
    }
    expect(inTrustDomain('a.org', 'b.org')(who({ san: { uri: ['spiffe://b.org/x'] } }))).toBe(true);
    expect(() => inTrustDomain('Example.org')).toThrow(/inTrustDomain: spiffeTrustDomain "Example.org" is not a trust domain: the trust domain must be lowercase/);
  });
});

describe('IP rules', () => {
  it('normalise every spelling of an address; IPv4-mapped IPv6 is IPv4', () => {
    expect(normalizeIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeIp('::FFFF:7f00:1')).toBe('127.0.0.1');
    expect(normalizeIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(normalizeIp('fe80::1%eth0', { allowZone: true })).toBe('fe80::1');
    expect(normalizeIp('fe80::1%eth0')).toBeUndefined();
    expect(normalizeIp('010.0.0.1')).toBeUndefined();
    expect(normalizeIp('1.2.3')).toBeUndefined();
    expect(normalizeIp('1::2::3')).toBeUndefined();
    expect(formatIp(Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]))).toBe('2001:db8::1:0:0:1');
  });

  it('addresses and CIDR blocks, IPv4 and IPv6, mapped addresses on either side', () => {
    const p = rule({ ip: ['10.0.0.0/8', '2001:db8::/32', '192.168.1.7'] });
    const ip = (...addresses: string[]) => who({ san: { ip: addresses } });
    expect(p(ip('10.200.3.4'))).toBe(true);
    expect(p(ip('::ffff:10.1.2.3'))).toBe(true);
    expect(p(ip('11.0.0.1'))).toBe(false);
    expect(p(ip('2001:db8:ffff::9'))).toBe(true);
    expect(p(ip('2001:db9::1'))).toBe(false);
    expect(p(ip('192.168.1.7'))).toBe(true);
    expect(p(ip('192.168.1.8'))).toBe(false);
    expect(p(ip('::a00:1'))).toBe(false); // IPv4-compatible (deprecated), not mapped: an IPv6 address
    expect(hasIpAddress('::ffff:10.0.0.0/104')(ip('10.9.9.9'))).toBe(true);
    expect(hasIpAddress('::1')(ip('0:0:0:0:0:0:0:1'))).toBe(true);
    expect(parseIpBlock('0.0.0.0/0').prefix).toBe(0);
  });

  it('a bad address or block fails when the decorator is applied, naming it', () => {
    expect(() => rule({ ip: ['10.0.0.0/33'] })).toThrow(/@RequireClientCert: ip "10.0.0.0\/33": the prefix length must be 0 to 32/);
    expect(() => rule({ ip: '10.0.0.1/8' })).toThrow(/"10.0.0.1\/8": bits are set past the \/8 prefix \(did you mean 10.0.0.0\/8\?\)/);
    expect(() => rule({ ip: ['300.1.1.1'] })).toThrow(/"300.1.1.1" is not an IP address or CIDR block/);
    expect(() => rule({ ip: ['localhost'] })).toThrow(/"localhost" is not an IP address/);
    expect(() => rule({ ip: [/10\./] })).toThrow(/ip entries must be strings/);
    expect(() => rule({ ip: [] })).toThrow(/ip is an empty list, which would admit nobody/);
  });
});

describe('typed rules', () => {
  it('ou, cn, email, issuer, dns', () => {
    expect(rule({ ou: 'payments' })(who())).toBe(true);
    expect(rule({ ou: ['billing', /^pay/] })(who())).toBe(true);
    expect(rule({ ou: 'billing' })(who())).toBe(false);
    expect(rule({ cn: 'web' })(who())).toBe(true);
    expect(rule({ cn: 'Web' })(who())).toBe(false);
    expect(rule({ issuer: /^CN=Payments Issuing CA,/ })(who())).toBe(true);
    expect(rule({ issuer: '^CN=Other CA,' })(who())).toBe(false);
    expect(rule({ email: 'ops@Example.ORG' })(who({ san: { email: ['ops@example.org'] } }))).toBe(true);
    expect(rule({ email: 'Ops@example.org' })(who({ san: { email: ['ops@example.org'] } }))).toBe(false); // the local part is case-sensitive
    expect(rule({ dns: 'API.internal' })(who({ san: { dns: ['api.INTERNAL'] } }))).toBe(true);
    expect(rule({ dns: ['api.internal'], ou: 'payments', spiffeTrustDomain: 'example.org' })(who({ san: { dns: ['api.internal'] } }))).toBe(false);
  });

  it('SAN values with "," or quotes compare as the certificate has them (never re-parsed from Node\'s text)', () => {
    const odd = who({ san: { uri: ['urn:x:a,b="c"'], dns: ['a"b'] } });
    expect(rule({ uri: 'urn:x:a,b="c"' })(odd)).toBe(true);
    expect(rule({ uri: 'urn:x:a' })(odd)).toBe(false);
    expect(rule({ uri: 'b="c"' })(odd)).toBe(false);
  });

  it('fingerprints in either case, with or without colons; anything else fails naming it', () => {
    for (const pin of [FP, FP.toLowerCase(), FP.replace(/:/g, ''), FP.replace(/:/g, '').toLowerCase()]) expect(rule({ fingerprint256: pin })(who())).toBe(true);
    expect(rule({ fingerprint256: FP.replace(/^A3/, 'A4') })(who())).toBe(false);
    expect(() => rule({ fingerprint256: FP.slice(3) })).toThrow(/fingerprint256 "1E:93.*" is not a SHA-256 fingerprint/);
    expect(() => rule({ fingerprint256: 'A31E:93' + FP.slice(8) })).toThrow(/is not a SHA-256 fingerprint/);
    expect(() => rule({ fingerprint256: 'zz'.repeat(32) })).toThrow(/is not a SHA-256 fingerprint/);
  });

  it('malformed values fail when the decorator is applied, naming the value', () => {
    expect(() => {
      @Controller()
      class C {
        @Get() @RequireClientCert({ spiffeId: 'spiffe://example.org/a b' }) a() {}
      }
      return C;
    }).toThrow(/@RequireClientCert: spiffeId "spiffe:\/\/example.org\/a b" is not a SPIFFE ID: the path segment "a b" has characters/);
    expect(() => rule({ dns: 'a,b' })).toThrow(/dns "a,b" is not a DNS name/);
    expect(() => rule({ email: 'ops' })).toThrow(/email "ops" is not an e-mail address/);
    expect(() => rule({ cn: [] })).toThrow(/cn is an empty list/);
    expect(() => rule({ subject: '(' })).toThrow(/"\(" is not a regular expression/);
    expect(() => rule({ spiffeID: 'spiffe://x/y' })).toThrow(/unknown rule field "spiffeID"/);
    expect(() => compileRequirements([['a'] as never])).toThrow(/an array/);
    expect(() => hasSpiffeId()).toThrow(/empty list/);
  });

  it('describes policies in words and explains which part decided', () => {
    const p = rule({ spiffeId: 'spiffe://example.org/home-page-service', ou: 'payments' });
    expect(describePolicy(p)).toBe('OU is payments and SPIFFE ID is spiffe://example.org/home-page-service');
    const refused = explainPolicy(p, who({ san: { uri: ['spiffe://example.org/event-service'] } }));
    expect(refused.allowed).toBe(false);
    expect(refused.reason).toBe('SPIFFE ID spiffe://example.org/event-service does not satisfy: SPIFFE ID is spiffe://example.org/home-page-service');
    const admitted = explainPolicy(p, who({ san: { uri: ['spiffe://example.org/home-page-service'] } }));
    expect(admitted).toMatchObject({ allowed: true, reason: 'OU payments is payments; SPIFFE ID spiffe://example.org/home-page-service is spiffe://example.org/home-page-service' });
    const either = compileRequirements([/^CN=api$/, { ip: '10.0.0.0/8' }]);
    expect(describePolicy(either)).toBe('any of: (subject DN matches /^CN=api$/) or (IP SAN in 10.0.0.0/8)');
    expect(explainPolicy(either, who({ san: { ip: ['10.1.1.1'] } })).reason).toBe('IP SAN 10.1.1.1 in 10.0.0.0/8');
    function isAuditor(i: ClientIdentity) {
      return i.commonName === 'auditor';
    }
    expect(describePolicy(isAuditor)).toBe('custom policy isAuditor');
    expect(explainPolicy(isAuditor, who())).toEqual({ allowed: false, reason: 'custom policy isAuditor refused it' });
  });

  it('reads rules written as text: a JSON rule, or a DN regex', () => {
    expect(describePolicy(requirementFromText('{"spiffeId":["spiffe://example.org/envoy"]}', 'trustedProxy'))).toBe('SPIFFE ID is spiffe://example.org/envoy');
    expect(describePolicy(requirementFromText('^CN=envoy,', 'trustedProxy'))).toBe('subject DN matches /^CN=envoy,/');
    expect(() => requirementFromText('{"spiffeId":', 'x')).toThrow(/x: not valid JSON/);
    expect(() => requirementFromText('{"ip":["10.0.0.0/40"]}', 'x')).toThrow(/x: ip "10.0.0.0\/40"/);
  });
});
