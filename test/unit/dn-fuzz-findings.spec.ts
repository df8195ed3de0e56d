import { X509Certificate } from 'node:crypto';
import { createRootCa } from 'nest-mtls/testing';
import { DnFormatError, formatDn, formatJdkDn, identityFromCertificate } from 'nest-mtls/internal';
import { nameDer, tlv, utf8 } from '../support/der';
import { certificateWithSubject, javaPrintsSubjects, opensslPrintsNames } from '../support/dn-oracles';
import { JavaDnOracle } from '../support/java-dn';
import { requireTool } from '../support/require-tool';
import { TempDir } from '../support/temp-dir';

/**
 * What the DN fuzz tests (test/unit/fuzz/dn-formatters.fuzz.spec.ts) found,
 * pinned: each name printed (or refused) as OpenSSL and Java 17 do, checked
 * against both again here. Every one of these failed before the fix.
 */
const hasGcc = requireTool('gcc', 'the DN regression tests against OpenSSL');
const hasJava = requireTool('javac', 'the DN regression tests against Java') && requireTool('java', 'the DN regression tests against Java');

const CN = '2.5.4.3';
const DC = '0.9.2342.19200300.100.1.25';
const hex = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex');

/** Names OpenSSL and Java both take, and how each prints them. */
const ACCEPTED: Array<{ label: string; name: Buffer; rfc4514: string; jdk: string }> = [
  {
    // Java's DerIndefLenConverter counts the original length octets (81 01) and fills the shortfall with a zero octet.
    label: 'an indefinite-length value holding a long-form length (Java pads with zero octets)',
    name: nameDer([[[CN, hex('2c 80 0c 81 01 61 00 00')]]]),
    rfc4514: 'CN=a',
    jdk: 'CN=#2c040c016100',
  },
  {
    // asn1js refused the whole Name ("byte length of Uint32Array should be a multiple of 4").
    label: 'an empty constructed UniversalString',
    name: nameDer([[[DC, hex('3c 80 00 00')]]]),
    rfc4514: 'DC=',
    jdk: 'DC=#3c00',
  },
  {
    // asn1js refused the whole Name ("[UNIVERSAL 15] is reserved").
    label: 'a value of universal tag 15',
    name: nameDer([[[CN, hex('0f 02 41 42')]]]),
    rfc4514: 'CN=#0F024142',
    jdk: 'CN=#0f024142',
  },
  {
    // node-forge read each BMPString child by itself and lost its place on an odd length; OpenSSL joins the octets first.
    label: 'a constructed BMPString whose parts have odd lengths',
    name: nameDer([[[CN, hex('3e 08 1e 01 00 1e 03 41 00 42')]]]),
    rfc4514: 'CN=AB',
    jdk: 'CN=#3e081e01001e03410042',
  },
  {
    // asn1js refused the whole Name ("OCTET STRING may consists of OCTET STRINGs only"); OpenSSL keeps a SEQUENCE value as it is.
    label: 'a SEQUENCE value holding a constructed OCTET STRING of a UTF8String',
    name: nameDer([[[CN, hex('30 05 24 03 0c 01 61')]]]),
    rfc4514: 'CN=#300524030C0161',
    jdk: 'CN=#300524030c0161',
  },
  {
    // asn1js refused a constructed NULL anywhere ("Constructed encoding used for primitive type"); OpenSSL collects any child.
    label: 'a constructed UTF8String holding a constructed NULL',
    name: nameDer([[[CN, hex('2c 05 0c 01 61 25 00')]]]),
    rfc4514: 'CN=a',
    jdk: 'CN=#2c050c01612500',
  },
  {
    label: 'a Name tagged as a primitive SEQUENCE (OpenSSL does not look at the bit for SEQUENCE OF)',
    name: hex('10 00'),
    rfc4514: '',
    jdk: '',
  },
];

/** Bytes OpenSSL refuses as a Name, which formatDn printed. */
const REFUSED: Array<{ label: string; name: Buffer }> = [
  { label: 'a context-specific tag in place of the Name', name: hex('a0 00') },
  { label: 'a context-specific tag in place of an RDN', name: hex('30 02 b1 00') },
  { label: 'a context-specific tag in place of an attribute', name: tlv(0x30, tlv(0x31, tlv(0xa0, Buffer.concat([hex('06 03 55 04 03'), utf8('a')])))) },
  { label: 'octets after the Name', name: Buffer.concat([nameDer([[[CN, utf8('a')]]]), hex('00')]) },
  { label: 'an RDN running past the Name', name: hex('30 05 31 15 30 13 06') },
  { label: 'a long-form length with nothing after it, ending an attribute', name: nameDer([[[CN, hex('0c 81 00')]]]) },
  { label: 'an attribute of three elements', name: tlv(0x30, tlv(0x31, tlv(0x30, Buffer.concat([hex('06 03 55 04 03'), utf8('a'), utf8('b')])))) },
];

let dir: TempDir;
beforeAll(() => {
  dir = new TempDir('dn-findings-');
});
afterAll(() => dir?.cleanup());

test.each(ACCEPTED)('$label: printed as OpenSSL and Java print it', ({ name, rfc4514, jdk }) => {
  expect(formatDn(name)).toBe(rfc4514);
  expect(formatJdkDn(name)).toBe(jdk);
});

test.each(REFUSED)('$label: refused, as OpenSSL refuses it', ({ name }) => {
  expect(() => formatDn(name)).toThrow(DnFormatError);
});

(hasGcc ? test : test.skip)('OpenSSL prints and refuses the same', () => {
  const openssl = opensslPrintsNames(dir, [...ACCEPTED.map((c) => c.name), ...REFUSED.map((c) => c.name)]);
  expect(openssl).toEqual([...ACCEPTED.map((c) => c.rfc4514), ...REFUSED.map(() => undefined)]);
});

(hasJava ? test : test.skip)('Java 17 prints the same, and a certificate with each name has an identity in both forms', async () => {
  const template = (await createRootCa({ subject: 'CN=template' })).certificate;
  const withPrimitiveTag = ACCEPTED.filter((c) => c.name[0] === 0x30); // Java refuses a Name whose tag is not 0x30
  const certificates = withPrimitiveTag.map((c) => new X509Certificate(certificateWithSubject(template, c.name)));
  expect(javaPrintsSubjects(JavaDnOracle.compile(dir), certificates)).toEqual(withPrimitiveTag.map((c) => c.jdk));
  certificates.forEach((cert, n) => {
    expect(identityFromCertificate(cert).subject).toBe(withPrimitiveTag[n].rfc4514);
    expect(identityFromCertificate(cert, { dnFormat: 'jdk' }).subject).toBe(withPrimitiveTag[n].jdk);
  });
}, 60_000);
