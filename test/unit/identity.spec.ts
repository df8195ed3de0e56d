import { X509Certificate } from 'node:crypto';
import type { CertificateSpec } from 'nest-mtls/testing';
import { DnFormatError } from 'nest-mtls/internal';
import { hostNameProblem } from 'nest-mtls/internal';
import { IdentityCache } from 'nest-mtls/internal';
import { identityFromCertificate } from 'nest-mtls/internal';
import { requireTool } from '../support/require-tool';
import { opensslSelfSigned, TestPki } from '../support/test-pki';

const itOpenssl = requireTool('openssl', 'the identity test of SANs in the order openssl writes them') ? test : test.skip;

let pki: TestPki;
beforeAll(async () => (pki = await TestPki.create()));
afterAll(() => pki?.cleanup());

let n = 0;
/** A certificate from our global CA with `subject` (RFC 4514, most specific RDN first). */
async function issued(subject: string, spec: Partial<CertificateSpec> = {}): Promise<X509Certificate> {
  return (await pki.issue(`c${++n}`, { subject, ...spec })).issued.certificate;
}

describe('identityFromCertificate', () => {
  // openssl writes the SANs in the order given, types interleaved (our generator groups them by type).
  itOpenssl('SANs of each type, in certificate order, SPIFFE ID, serial, fingerprint, validity', () => {
    const cert = new X509Certificate(opensslSelfSigned(pki, '/O=Example/CN=svc', {
      days: 2,
      addext: [
        'subjectAltName=DNS:svc.example.com,URI:https://example.com/x,IP:10.0.0.1,email:ops@example.com,' +
          'URI:spiffe://example.org/ns/prod/sa/svc,DNS:*.svc.example.com,IP:2001:db8:0:0:1:0:0:1,IP:0:0:0:0:0:0:0:1,' +
          'IP:2001:0db8:0000:0000:0000:0000:0002:0001,IP:fe80:0:0:1:0:0:0:0,URI:spiffe://other.org/b',
      ],
    }));
    const identity = identityFromCertificate(cert);
    expect(identity.san).toEqual({
      dns: ['svc.example.com', '*.svc.example.com'],
      uri: ['https://example.com/x', 'spiffe://example.org/ns/prod/sa/svc', 'spiffe://other.org/b'],
      ip: ['10.0.0.1', '2001:db8::1:0:0:1', '::1', '2001:db8::2:1', 'fe80:0:0:1::'],
      email: ['ops@example.com'],
    });
    // Three URI SANs: not an X509-SVID (exactly one URI SAN), so no SPIFFE ID, whichever URIs are spiffe://.
    expect(identity.spiffeId).toBeUndefined();
    expect(identity.serialNumber).toBe(cert.serialNumber);
    expect(identity.fingerprint256).toBe(cert.fingerprint256);
    expect(identity.validFrom).toEqual(new Date(cert.validFrom));
    expect(identity.validTo).toEqual(new Date(cert.validTo));
    expect(identity.validTo.getTime() - identity.validFrom.getTime()).toBe(2 * 24 * 3600 * 1000);
    expect(identity.certificate).toBe(cert);
    expect(identity.subject).toBe('CN=svc,O=Example');
    expect(identity.issuer).toBe('CN=svc,O=Example');
  });

  test('the SPIFFE ID of an X509-SVID: its one URI SAN, when that is a valid SPIFFE ID; OUs in DN order', async () => {
    expect(identityFromCertificate(await issued('CN=a,OU=web+OU=edge,OU=payments,O=Example', { uri: ['spiffe://example.org/ns/prod/sa/web'] }))).toMatchObject({
      spiffeId: 'spiffe://example.org/ns/prod/sa/web',
      organizationalUnits: ['web', 'edge', 'payments'],
    });
    for (const uri of ['spiffe://Example.org/x', 'spiffe://example.org/a/../b', 'spiffe://example.org/a/', 'https://example.org/x', 'spiffe://example.org:443/x']) {
      expect(identityFromCertificate(await issued('CN=a', { uri: [uri] })).spiffeId).toBeUndefined();
    }
    expect(identityFromCertificate(await issued('CN=a', { uri: ['spiffe://example.org/a', 'spiffe://example.org/b'] })).spiffeId).toBeUndefined();
  });

  test('no SAN extension: empty lists, no SPIFFE ID', async () => {
    const identity = identityFromCertificate(await issued('CN=plain'));
    expect(identity.san).toEqual({ dns: [], uri: [], ip: [], email: [] });
    expect(identity.spiffeId).toBeUndefined();
  });

  test('commonName is unescaped and taken from the most specific RDN', async () => {
    const identity = identityFromCertificate(await issued('CN=Doe\\, John \\+ \\"Jr\\" \\<x\\>\\;#,O=Example,CN=outer'));
    expect(identity.subject).toBe('CN=Doe\\, John \\+ \\"Jr\\" \\<x\\>\\;#,O=Example,CN=outer');
    expect(identity.commonName).toBe('Doe, John + "Jr" <x>;#');
  });

  test('commonName in a multi-valued RDN is the first one printed; UTF-8 kept', async () => {
    const identity = identityFromCertificate(await issued('OU=unit+CN=Zoë,O=x'));
    expect(identity.subject).toBe('OU=unit+CN=Zoë,O=x');
    expect(identity.commonName).toBe('Zoë');
  });

  test('no CN: commonName undefined', async () => {
    expect(identityFromCertificate(await issued('OU=x,O=Example')).commonName).toBeUndefined();
  });

  test('a SAN extension the ASN.1 library cannot read throws DnFormatError, not the library\'s own error', async () => {
    const der = Buffer.from((await issued('CN=svc', { dns: ['svc.example.com'] })).raw);
    // extnID subjectAltName, then OCTET STRING { SEQUENCE { ... } }: turn the SEQUENCE into a SET.
    const at = der.indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11, 0x04]));
    expect(at).toBeGreaterThan(0);
    expect(der[at + 7]).toBe(0x30);
    der[at + 7] = 0x31;
    const cert = new X509Certificate(der); // OpenSSL reads the certificate; the extension is left to the reader
    expect(() => identityFromCertificate(cert)).toThrow(DnFormatError);
    expect(() => identityFromCertificate(cert)).toThrow(/^cannot read the subject alternative names: /);
  });
});

describe('IdentityCache', () => {
  it('builds once per certificate and evicts the least recently used', () => {
    const [a, b, c] = ['user-service', 'home-page-service', 'event-service'].map((name) => pki.certs[name].issued.certificate);
    const cache = new IdentityCache(2);
    let builds = 0;
    const get = (cert: X509Certificate) =>
      cache.get(cert.fingerprint256, () => {
        builds++;
        return { subject: cert.subject };
      });
    const first = get(a);
    expect(get(new X509Certificate(a.raw))).toBe(first); // same DER, new object: a hit
    expect(builds).toBe(1);
    get(b);
    get(a); // a is now the most recently used
    get(c); // evicts b
    expect(cache.size).toBe(2);
    get(a);
    expect(builds).toBe(3);
    get(b);
    expect(builds).toBe(4);
  });
});

describe('hostNameProblem (which DNS SANs endpoint identification resolves)', () => {
  it.each(['localhost', 'user-service.prod.svc.cluster.local', 'api.example.org.', 'a1.b2', '_srv.example.org', 'xn--bcher-kva.example', '0x7f.example', '127.0.0.1.nip.io'])('%s is a host name', (name) => {
    expect(hostNameProblem(name)).toBeUndefined();
  });

  it.each(['2130706433', '127.1', '0x7f.0.0.1', '0177.0.0.1', '0x7f000001', '0X7F', '127.0.0.1', '127.0.0.1.', '10.0.0.010', 'example.0x'])('%s is an address spelled as a name', (name) => {
    expect(hostNameProblem(name)).toMatch(/an address spelled as a name/);
  });

  it.each(['', '.', '::1', '[::1]', 'fe80::1%eth0', 'a..b', 'white space', 'a/b', `${'a'.repeat(64)}.org`, `${'a.'.repeat(127)}org`])('%j is no host name', (name) => {
    expect(hostNameProblem(name)).toMatch(/not a host name/);
  });
});
