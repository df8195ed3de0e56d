import { createHash, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { createRootCa } from 'nest-mtls/testing';
import { ForwardedCertificateError, parseXfcc, readForwardedCertificate } from 'nest-mtls/internal';
import { fuzzed, mutated, outcome } from '../../support/fuzz';

/**
 * The forwarded-certificate parsers under fuzzing (Envoy's
 * x-forwarded-client-cert and RFC 9440 Client-Cert / Client-Cert-Chain):
 * whatever a proxy or a client behind it sends, the answer is a refusal
 * (ForwardedCertificateError, a 400) or a well-formed value, never another
 * throw, and every run finishes within its deadline. A certificate is only
 * ever one the header carries, byte for byte.
 */

let cert: X509Certificate;
let other: X509Certificate;
beforeAll(async () => {
  cert = (await createRootCa({ subject: 'CN=forwarded,O=Fuzz' })).certificate;
  other = (await createRootCa({ subject: 'CN=intermediate,O=Fuzz' })).certificate;
});

const KEY = /^[a-z][a-z0-9-]*$/;

/** Text made of what the XFCC grammar is about: separators, quotes, escapes, spaces, and some plain characters. */
const xfccText = fc.string({ unit: fc.constantFrom(...'=;,"\\ \tBySubjectURIDNSHashCertChain:/%aZ09-é'.split(/(?:)/u)), maxLength: 60 });

/** A value Envoy would write: quoted when it holds a special character or spaces at either end (`\` and `"` escaped). */
function written(value: string): string {
  return /[,;="\\]|^\s|\s$/.test(value) ? `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"` : value;
}

/** Elements as a proxy chain writes them: each key once where Envoy writes it once. */
const elements = fc.array(
  fc
    .tuple(
      fc.subarray(['By', 'Hash', 'Cert', 'Chain', 'Subject']),
      fc.array(fc.oneof(fc.constantFrom('URI', 'DNS', 'x-Custom'), fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,6}$/).filter((k) => !['by', 'hash', 'cert', 'chain', 'subject'].includes(k.toLowerCase()))), { maxLength: 3 }),
    )
    .chain(([single, repeated]) => fc.tuple(...[...single, ...repeated].map((key) => fc.tuple(fc.constant(key), xfccText))))
    .filter((pairs) => pairs.length > 0),
  { minLength: 1, maxLength: 3 },
);

const header = (list: [string, string][][]) => list.map((pairs) => pairs.map(([k, v]) => `${k}=${written(v)}`).join(';')).join(',');

test('parseXfcc: what Envoy writes reads back as written, keys lowercased', () => {
  fc.assert(
    fc.property(elements, (list) => {
      const expected = list.map((pairs) => pairs.map(([k, v]) => [k.toLowerCase(), /[,;="\\]|^\s|\s$/.test(v) ? v : v.trim()]));
      expect(parseXfcc(header(list))).toEqual(expected);
    }),
    fuzzed(1500),
  );
});

test('parseXfcc on any text: well-formed elements or ForwardedCertificateError, nothing else, in bounded time', () => {
  const text = fc.oneof(xfccText, fc.string({ maxLength: 80 }), elements.map(header).chain((h) => mutated(fc.constant(Buffer.from(h, 'latin1'))).map((b) => b.toString('latin1'))));
  fc.assert(
    fc.property(text, (value) => {
      const started = performance.now();
      const result = outcome(() => parseXfcc(value));
      expect(performance.now() - started).toBeLessThan(1000);
      if ('error' in result) {
        expect(result.error).toBeInstanceOf(ForwardedCertificateError);
        return;
      }
      expect(result.value.length).toBeGreaterThan(0);
      for (const element of result.value) {
        expect(element.length).toBeGreaterThan(0);
        for (const [key, val] of element) {
          expect(key).toMatch(KEY);
          expect(typeof val).toBe('string');
        }
        for (const single of ['by', 'hash', 'cert', 'chain', 'subject']) expect(element.filter(([k]) => k === single).length).toBeLessThanOrEqual(1);
      }
    }),
    fuzzed(4000),
  );
  // Long hostile headers (a proxy's 16 KiB and more) finish in linear time.
  for (const value of ['"'.repeat(64_000), 'a='.repeat(32_000), `Subject="${'\\'.repeat(64_000)}`, `${'By=x;'.repeat(12_000)}`, ',;'.repeat(32_000)]) {
    const started = performance.now();
    const result = outcome(() => parseXfcc(value));
    expect(performance.now() - started).toBeLessThan(2000);
    if ('error' in result) expect(result.error).toBeInstanceOf(ForwardedCertificateError);
  }
});

/** The outcome of reading a request's headers: a certificate the header carries byte for byte, nothing, or a refusal. */
function checkRead(headers: Record<string, string>, kind: 'x-forwarded-client-cert' | 'client-cert', carried: Buffer[]): void {
  const started = performance.now();
  const result = outcome(() => readForwardedCertificate(headers, kind));
  expect(performance.now() - started).toBeLessThan(1000);
  if ('error' in result) {
    expect(result.error).toBeInstanceOf(ForwardedCertificateError);
    return;
  }
  if (result.value === undefined) return;
  expect(result.value.leaf).toBeInstanceOf(X509Certificate);
  expect(carried.some((der) => der.equals(result.value!.leaf.raw))).toBe(true);
  for (const c of result.value.intermediates) expect(carried.some((der) => der.equals(c.raw))).toBe(true);
}

/** The DER of every PEM certificate block in the URL-decoded pieces of `header` (damage may have changed it: still what the header carries). */
function pemBlocksIn(header: string): Buffer[] {
  const decoded = header.split(/[;,=]/).map((piece) => {
    try {
      return decodeURIComponent(piece.replace(/^\s*"|"\s*$/g, ''));
    } catch {
      return '';
    }
  });
  const blocks = decoded.join('\n').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => Buffer.from(block.replace(/-----[A-Z ]+-----/g, ''), 'base64'));
}

test('x-forwarded-client-cert on damaged headers: a certificate it carries, or a refusal; never another throw', () => {
  const pems = () => [cert, other].map((c) => c.toString());
  const field = fc.constantFrom('Cert', 'Chain', 'Hash', 'Subject', 'URI', 'By');
  const valueOf = (name: string, pick: number) => {
    const [a, b] = pems();
    if (name === 'Cert') return encodeURIComponent(pick % 2 ? a : b);
    if (name === 'Chain') return encodeURIComponent(a + b);
    if (name === 'Hash') return createHash('sha256').update(pick % 2 ? cert.raw : other.raw).digest('hex');
    return written('CN=x,O=y;Cert=evil');
  };
  const headerText = fc
    .array(fc.tuple(field, fc.nat()), { minLength: 1, maxLength: 4 })
    .map((pairs) => pairs.map(([name, pick]) => `${name}=${valueOf(name, pick)}`).join(';'))
    .chain((h) => fc.oneof({ weight: 1, arbitrary: fc.constant(h) }, { weight: 3, arbitrary: mutated(fc.constant(Buffer.from(h, 'latin1'))).map((b) => b.toString('latin1')) }));
  fc.assert(
    fc.property(fc.oneof(headerText, xfccText), (value) => checkRead({ 'x-forwarded-client-cert': value }, 'x-forwarded-client-cert', pemBlocksIn(value))),
    fuzzed(600),
  );
});

test('RFC 9440 Client-Cert and Client-Cert-Chain on damaged values: a certificate they carry, or a refusal; never another throw', () => {
  const item = (der: Buffer) => `:${der.toString('base64')}:`;
  const damaged = (text: string) => fc.oneof({ weight: 1, arbitrary: fc.constant(text) }, { weight: 3, arbitrary: mutated(fc.constant(Buffer.from(text, 'latin1'))).map((b) => b.toString('latin1')) });
  const derDamaged = (der: Buffer) => mutated(fc.constant(der)).map(item);
  const value = (der: () => Buffer) => fc.oneof(fc.constant(0).chain(() => damaged(item(der()))), fc.constant(0).chain(() => derDamaged(der())), fc.string({ maxLength: 40 }));
  fc.assert(
    fc.property(value(() => cert.raw), fc.option(fc.array(value(() => other.raw), { minLength: 1, maxLength: 3 }).map((items) => items.join(', '))), (certText, chainText) => {
      const headers: Record<string, string> = { 'client-cert': certText };
      if (chainText !== null) headers['client-cert-chain'] = chainText;
      // What the headers carry: the DER of any base64 in them that decodes to a certificate.
      const carried = `${certText},${chainText ?? ''}`.split(',').map((part) => Buffer.from(part.trim().replace(/^:|:$/g, ''), 'base64'));
      checkRead(headers, 'client-cert', carried);
    }),
    fuzzed(600),
  );
});
