import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DnFormatError } from 'nest-mtls/identity/dn-format.error';
import { identityFromCertificate } from 'nest-mtls/identity/identity-from-certificate';
import { requireTool } from '../support/require-tool';

const describeOpenssl = requireTool('openssl', 'the identity tests (certificates made with openssl)') ? describe : describe.skip;

describeOpenssl('identityFromCertificate', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let n = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'identity-'));
    writeFileSync(join(dir, 'req.cnf'), '[req]\ndistinguished_name = dn\nstring_mask = utf8only\n[dn]\n');
    env = { ...process.env, OPENSSL_CONF: join(dir, 'req.cnf') };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function makeCert(subject: string, ...extra: string[]): X509Certificate {
    const out = join(dir, `c${++n}.pem`);
    execFileSync(
      'openssl',
      ['req', '-x509', '-config', join(dir, 'req.cnf'), '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-keyout', join(dir, `k${n}.pem`), '-days', '2', '-utf8', '-multivalue-rdn', '-subj', subject, '-out', out, ...extra],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return new X509Certificate(readFileSync(out));
  }

  test('SANs of each type, in certificate order, SPIFFE ID, serial, fingerprint, validity', () => {
    const cert = makeCert(
      '/O=Example/CN=svc',
      '-addext',
      'subjectAltName=DNS:svc.example.com,URI:https://example.com/x,IP:10.0.0.1,email:ops@example.com,' +
        'URI:spiffe://example.org/ns/prod/sa/svc,DNS:*.svc.example.com,IP:2001:db8:0:0:1:0:0:1,IP:0:0:0:0:0:0:0:1,' +
        'IP:2001:0db8:0000:0000:0000:0000:0002:0001,IP:fe80:0:0:1:0:0:0:0,URI:spiffe://other.org/b',
    );
    const identity = identityFromCertificate(cert);
    expect(identity.san).toEqual({
      dns: ['svc.example.com', '*.svc.example.com'],
      uri: ['https://example.com/x', 'spiffe://example.org/ns/prod/sa/svc', 'spiffe://other.org/b'],
      ip: ['10.0.0.1', '2001:db8::1:0:0:1', '::1', '2001:db8::2:1', 'fe80:0:0:1::'],
      email: ['ops@example.com'],
    });
    expect(identity.spiffeId).toBe('spiffe://example.org/ns/prod/sa/svc');
    expect(identity.serialNumber).toBe(cert.serialNumber);
    expect(identity.fingerprint256).toBe(cert.fingerprint256);
    expect(identity.validFrom).toEqual(new Date(cert.validFrom));
    expect(identity.validTo).toEqual(new Date(cert.validTo));
    expect(identity.validTo.getTime() - identity.validFrom.getTime()).toBe(2 * 24 * 3600 * 1000);
    expect(identity.certificate).toBe(cert);
    expect(identity.subject).toBe('CN=svc,O=Example');
    expect(identity.issuer).toBe('CN=svc,O=Example');
  });

  test('no SAN extension: empty lists, no SPIFFE ID', () => {
    const identity = identityFromCertificate(makeCert('/CN=plain'));
    expect(identity.san).toEqual({ dns: [], uri: [], ip: [], email: [] });
    expect(identity.spiffeId).toBeUndefined();
  });

  test('commonName is unescaped and taken from the most specific RDN', () => {
    const identity = identityFromCertificate(makeCert('/CN=outer/O=Example/CN=Doe\\, John \\+ "Jr" <x>;#'));
    expect(identity.subject).toBe('CN=Doe\\, John \\+ \\"Jr\\" \\<x\\>\\;#,O=Example,CN=outer');
    expect(identity.commonName).toBe('Doe, John + "Jr" <x>;#');
  });

  test('commonName in a multi-valued RDN is the first one printed; UTF-8 kept', () => {
    const identity = identityFromCertificate(makeCert('/O=x/CN=Zoë+OU=unit'));
    expect(identity.subject).toBe('OU=unit+CN=Zoë,O=x');
    expect(identity.commonName).toBe('Zoë');
  });

  test('no CN: commonName undefined', () => {
    expect(identityFromCertificate(makeCert('/O=Example/OU=x')).commonName).toBeUndefined();
  });

  test('a SAN extension the ASN.1 library cannot read throws DnFormatError, not the library\'s own error', () => {
    const der = Buffer.from(makeCert('/CN=svc', '-addext', 'subjectAltName=DNS:svc.example.com').raw);
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

describeOpenssl('IdentityCache', () => {
  // Local import keeps this block self-contained.
  const { IdentityCache } = require('nest-mtls/identity/identity-cache') as typeof import('nest-mtls/identity/identity-cache');
  const { X509Certificate } = require('node:crypto') as typeof import('node:crypto');
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');

  function selfSigned(cn: string) {
    const pem = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', `/CN=${cn}`, '-days', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return new X509Certificate(pem);
  }

  it('builds once per certificate and evicts the least recently used', () => {
    const [a, b, c] = ['a', 'b', 'c'].map(selfSigned);
    const cache = new IdentityCache(2);
    let builds = 0;
    const get = (cert: import('node:crypto').X509Certificate) =>
      cache.get(cert.fingerprint256, () => {
        builds++;
        return { subject: cert.subject } as never;
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
