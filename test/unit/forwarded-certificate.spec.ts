import { createHash } from 'node:crypto';
import { ForwardedCertificateError } from 'nest-mtls/internal';
import { readForwardedCertificate } from 'nest-mtls/internal';
import { parseXfcc } from 'nest-mtls/internal';
import { TestPki } from '../support/test-pki';

const enc = (pem: string) => encodeURIComponent(pem);
const sf = (der: Buffer) => `:${der.toString('base64')}:`;

function malformed(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ForwardedCertificateError);
    return (err as ForwardedCertificateError).problem;
  }
  throw new Error('expected a ForwardedCertificateError');
}

describe('x-forwarded-client-cert', () => {
  it('splits elements on "," and pairs on ";", never inside quotes; \\" is a quote', () => {
    expect(parseXfcc('By=spiffe://a/b;Hash=abc;Subject="CN=x,O=y;Cert=evil";URI=spiffe://c/d')).toEqual([
      [['by', 'spiffe://a/b'], ['hash', 'abc'], ['subject', 'CN=x,O=y;Cert=evil'], ['uri', 'spiffe://c/d']],
    ]);
    expect(parseXfcc('Subject="a \\"b\\" c";DNS=x, By=y;DNS=p;DNS=q')).toEqual([
      [['subject', 'a "b" c'], ['dns', 'x']],
      [['by', 'y'], ['dns', 'p'], ['dns', 'q']],
    ]);
  });

  it('refuses broken syntax, saying where', () => {
    expect(malformed(() => parseXfcc(''))).toBe('the header is empty');
    expect(malformed(() => parseXfcc('Subject="CN=x'))).toMatch(/^the quoted value of Subject is not closed/);
    expect(malformed(() => parseXfcc('Cert'))).toMatch(/^"Cert" has no value/);
    expect(malformed(() => parseXfcc('Hash=a;Hash=b'))).toMatch(/^a second Hash in one element/);
    expect(malformed(() => parseXfcc('Subject=CN=x'))).toMatch(/^a = in the unquoted value of Subject/);
    expect(malformed(() => parseXfcc('Subject="x"y'))).toMatch(/^text after the quoted value of Subject/);
    expect(malformed(() => parseXfcc('By=a,'))).toMatch(/^an empty element/);
    expect(malformed(() => parseXfcc('B y=a'))).toMatch(/is not a field name/);
  });
});

describe('reading a forwarded certificate', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await TestPki.create();
  });
  afterAll(() => pki?.cleanup());

  const leafOf = (name: string) => pki.certs[name].issued;

  it('takes Cert and Chain of the LAST element (the one our proxy appended), never its Subject or URI', () => {
    const home = leafOf('home-page-service');
    const event = leafOf('event-service');
    const value = `By=spiffe://x/y;Cert="${enc(event.certPem)}";Subject="CN=event-service",By=spiffe://example.org/envoy;Hash=${createHash('sha256').update(home.certificate.raw).digest('hex')};Cert="${enc(home.certPem)}";Chain="${enc(home.chainPem)}";Subject="CN=someone-else";URI=spiffe://example.org/admin`;
    const forwarded = readForwardedCertificate({ 'x-forwarded-client-cert': value }, 'x-forwarded-client-cert')!;
    expect(forwarded.leaf.fingerprint256).toBe(home.certificate.fingerprint256);
    expect(forwarded.intermediates.map((c) => c.subject)).toEqual([pki.global.certificate.subject]);
  });

  it('injecting ;Cert= inside a quoted Subject does not replace the certificate', () => {
    const home = leafOf('home-page-service');
    const event = leafOf('event-service');
    const value = `Cert="${enc(home.certPem)}";Subject="CN=x;Cert=${enc(event.certPem)}"`;
    expect(readForwardedCertificate({ 'x-forwarded-client-cert': value }, 'x-forwarded-client-cert')!.leaf.fingerprint256).toBe(home.certificate.fingerprint256);
    // Unquoted, the injected pair is a second Cert: refused, not picked.
    expect(malformed(() => readForwardedCertificate({ 'x-forwarded-client-cert': `Cert=${enc(home.certPem)};Subject=CN%3Dx;Cert=${enc(event.certPem)}` }, 'x-forwarded-client-cert'))).toMatch(/a second Cert/);
  });

  it('refuses a last element without a certificate, a bad Hash, and what is not URL-encoded PEM', () => {
    const home = leafOf('home-page-service');
    const xfcc = (v: string) => () => readForwardedCertificate({ 'x-forwarded-client-cert': v }, 'x-forwarded-client-cert');
    expect(malformed(xfcc('By=spiffe://e/envoy;Subject="CN=home-page-service";URI=spiffe://example.org/home-page-service'))).toMatch(/no Cert \(or Chain\) field.*Subject, URI and DNS alone are not accepted/);
    expect(malformed(xfcc(`Hash=${'0'.repeat(64)};Cert="${enc(home.certPem)}"`))).toBe('Hash is not the SHA-256 of the DER of Cert');
    expect(malformed(xfcc('Cert="%E0%A4%A"'))).toBe('Cert is not URL-encoded PEM');
    expect(malformed(xfcc('Cert=abc'))).toMatch(/Cert is not PEM/);
    expect(malformed(xfcc(`Cert="${enc(home.certPem + home.certPem)}"`))).toBe('Cert holds 2 certificates; expected exactly one');
    expect(malformed(xfcc(`Cert="${enc('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')}"`))).toBe('Cert: certificate 1 cannot be read');
  });

  it('RFC 9440: Client-Cert is one byte sequence, Client-Cert-Chain a list of them', () => {
    const home = leafOf('home-page-service');
    const got = readForwardedCertificate({ 'client-cert': sf(home.certificate.raw), 'client-cert-chain': sf(pki.global.certificate.raw) }, 'client-cert')!;
    expect(got.leaf.fingerprint256).toBe(home.certificate.fingerprint256);
    expect(got.intermediates).toHaveLength(1);
    expect(readForwardedCertificate({}, 'client-cert')).toBeUndefined();
    const rfc = (headers: Record<string, string>) => () => readForwardedCertificate(headers, 'client-cert');
    expect(malformed(rfc({ 'client-cert': home.certificate.raw.toString('base64') }))).toMatch(/not a structured-field byte sequence/);
    expect(malformed(rfc({ 'client-cert': `${sf(home.certificate.raw)}, ${sf(home.certificate.raw)}` }))).toMatch(/more than one value/);
    expect(malformed(rfc({ 'client-cert': ':AAAA:' }))).toBe('the value is not a DER certificate');
    expect(malformed(rfc({ 'client-cert': ':not base64!:' }))).toMatch(/not a structured-field byte sequence/);
    expect(malformed(rfc({ 'client-cert-chain': sf(pki.global.certificate.raw) }))).toBe('the header came without Client-Cert');
    expect(malformed(rfc({ 'client-cert': sf(home.certificate.raw), 'client-cert-chain': `${sf(pki.global.certificate.raw)}, :xx:` }))).toMatch(/certificate 2 is not/);
  });

  it('refuses a certificate with bytes after its DER (OpenSSL would read the certificate and ignore them), in both header forms', () => {
    const home = leafOf('home-page-service');
    const padded = Buffer.concat([home.certificate.raw, Buffer.from([0x32])]);
    expect(malformed(() => readForwardedCertificate({ 'client-cert': sf(padded) }, 'client-cert'))).toBe('the value has bytes after its DER certificate');
    const pem = `-----BEGIN CERTIFICATE-----\n${padded.toString('base64')}\n-----END CERTIFICATE-----\n`;
    const xfcc = `Hash=00;Cert="${encodeURIComponent(pem)}"`;
    expect(malformed(() => readForwardedCertificate({ 'x-forwarded-client-cert': xfcc }, 'x-forwarded-client-cert'))).toMatch(/certificate 1 (cannot be read|has bytes after its DER)/);
  });
});
