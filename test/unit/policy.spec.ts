import { Controller, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ClientIdentity } from 'nest-mtls/internal';
import { CLIENT_CERT_POLICY, RequireClientCert, allOf, anyOf, fingerprintIn, hasDnsName, hasSpiffeId, subjectMatches, type ClientCertPolicy } from 'nest-mtls';
import { compileRequirements } from 'nest-mtls/internal';

const FP = Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).toUpperCase().padStart(2, '0')).join(':');

// Policies are pure functions of an identity; the TLS side is covered by the end-to-end tests.
function identity(subject: string, extra: Partial<ClientIdentity> = {}): ClientIdentity {
  return {
    subject,
    issuer: 'CN=global-ca',
    san: { dns: [], uri: [], ip: [], email: [] },
    serialNumber: '01',
    fingerprint256: FP,
    validFrom: new Date(0),
    validTo: new Date(0),
    certificate: undefined as never,
    ...extra,
  };
}

describe('client certificate policies', () => {
  it('tests the DN regex against the RFC 4514 subject', () => {
    const p = subjectMatches(/^CN=home-page-service(,|$)/);
    expect(p(identity('CN=home-page-service,O=nest-mtls'))).toBe(true);
    expect(p(identity('CN=home-page-service'))).toBe(true);
    expect(p(identity('CN=home-page-service-evil,O=nest-mtls'))).toBe(false);
    expect(p(identity('CN=event-service,O=nest-mtls'))).toBe(false);
  });

  it('an escaped comma inside a CN does not pass as another RDN', () => {
    const p = subjectMatches(/^CN=x,O=Example$/);
    expect(p(identity('CN=x\\,O=Example'))).toBe(false);
    expect(p(identity('CN=x,O=Example'))).toBe(true);
  });

  it('refuses g and y flags, which would alternate allow and deny', () => {
    expect(() => subjectMatches(/^CN=home/g)).toThrow(/has the g flag/);
    expect(() => RequireClientCert(/^CN=home/y)).toThrow(/has the y flag/);
  });

  it('compiles rules: all fields must match, any entry of a list', () => {
    const p = compileRequirements([{ subject: /^CN=api(,|$)/, dns: ['api.internal', /\.svc$/] }]);
    expect(p(identity('CN=api', { san: { dns: ['x.svc'], uri: [], ip: [], email: [] } }))).toBe(true);
    expect(p(identity('CN=api', { san: { dns: ['other'], uri: [], ip: [], email: [] } }))).toBe(false);
    expect(p(identity('CN=web', { san: { dns: ['api.internal'], uri: [], ip: [], email: [] } }))).toBe(false);
  });

  it('several requirements mean any of them; none means any verified client', () => {
    const p = compileRequirements([/^CN=a$/, /^CN=b$/]);
    expect(p(identity('CN=b'))).toBe(true);
    expect(p(identity('CN=c'))).toBe(false);
    expect(compileRequirements([])(identity('CN=whoever'))).toBe(true);
  });

  it('SPIFFE IDs and fingerprint pins', () => {
    expect(hasSpiffeId('spiffe://example.org/home')(identity('CN=x', { spiffeId: 'spiffe://example.org/home' }))).toBe(true);
    expect(hasSpiffeId('spiffe://example.org/home')(identity('CN=x'))).toBe(false);
    expect(fingerprintIn(FP.replace(/:/g, '').toLowerCase())(identity('CN=x'))).toBe(true);
    expect(fingerprintIn(FP.replace(/..$/, '00'))(identity('CN=x'))).toBe(false);
  });

  it('combinators fail closed when empty', () => {
    expect(anyOf()(identity('CN=x'))).toBe(false);
    expect(allOf()(identity('CN=x'))).toBe(false);
    expect(allOf(hasDnsName('a'), subjectMatches('^CN=x$'))(identity('CN=x', { san: { dns: ['a'], uri: [], ip: [], email: [] } }))).toBe(true);
  });

  it('refuses empty or unknown rules instead of allowing everyone', () => {
    expect(() => compileRequirements([{}])).toThrow(/empty rule/);
    expect(() => compileRequirements([{ subjet: /x/ } as never])).toThrow(/unknown rule field "subjet"/);
  });

  it('handler metadata wins over controller metadata', () => {
    @RequireClientCert(/^CN=controller$/)
    @Controller()
    class C {
      @Get('a') @RequireClientCert(/^CN=handler$/) a() {}
      @Get('b') b() {}
    }
    const reflector = new Reflector();
    const policyFor = (name: 'a' | 'b') =>
      reflector.getAllAndOverride<ClientCertPolicy>(CLIENT_CERT_POLICY, [C.prototype[name], C]);
    expect(policyFor('a')(identity('CN=handler'))).toBe(true);
    expect(policyFor('a')(identity('CN=controller'))).toBe(false);
    expect(policyFor('b')(identity('CN=controller'))).toBe(true);
  });
});
