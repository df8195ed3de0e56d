import { X509Certificate } from 'node:crypto';
import { formatDn, issuerDn, subjectDn } from 'nest-mtls/internal';
import { DnFormatError } from 'nest-mtls/internal';
import { children, nameDer, tbsWithSubject, tlv, utf8, type Rdn } from '../support/der';
import { requireTool } from '../support/require-tool';
import { fixedOpensslEnv, opensslNames, opensslSelfSigned, TempDir, type OpensslCertOptions } from '../support/test-pki';

/**
 * Differential test: formatDn must print exactly what
 * `openssl x509 -noout -subject -nameopt RFC2253,-esc_msb` prints.
 */
const hasOpenssl = requireTool('openssl', 'the differential DN tests');
const describeOpenssl = hasOpenssl ? describe : describe.skip;

let dir: TempDir;
beforeAll(() => {
  if (hasOpenssl) dir = new TempDir('dn-format-');
});
afterAll(() => dir?.cleanup());

let counter = 0;
/** What the CLI prints for subject and issuer of a DER certificate (fixed configuration). */
function namesByOpenssl(certDer: Buffer): { subject: string; issuer: string } {
  return opensslNames(dir.write(`p${++counter}.der`, certDer), fixedOpensslEnv(dir));
}

let template: { tbs: Buffer; rest: Buffer[] } | undefined;
/** A certificate (bad signature, which printing ignores) whose subject is `name`. */
function certWithSubject(name: Buffer): Buffer {
  if (!template) {
    const [tbs, ...rest] = children(opensslSelfSigned(dir, '/CN=template'));
    template = { tbs, rest };
  }
  return tlv(0x30, Buffer.concat([tbsWithSubject(template.tbs, name), ...template.rest]));
}

describeOpenssl('formatDn against openssl x509 -nameopt RFC2253,-esc_msb', () => {
  const subjects: [string, string, OpensslCertOptions][] = [
    ['plain', '/C=US/ST=California/L=San Francisco/O=Example Inc/OU=Platform/CN=home-page-service', {}],
    ['comma', '/CN=Doe\\, John/O=Example', {}],
    ['CN smuggling ,O=Example', '/CN=evil\\,O=Example/O=Other', {}],
    ['plus (single-valued)', '/CN=a\\+b', {}],
    ['quote backslash', '/CN=say "hi" \\\\ bye', {}],
    ['angle brackets semicolon', '/CN=<tag>;x', {}],
    ['equals', '/CN=a=b=c', {}],
    ['leading hash', '/CN=#not-hex', {}],
    ['hash inside', '/CN=a#b', {}],
    ['lone hash', '/CN=#', {}],
    ['leading and trailing spaces', '/CN=  padded  ', {}],
    ['lone space', '/CN= ', {}],
    ['utf8 accents', '/CN=José Müller/O=Société Générale', {}],
    ['utf8 CJK', '/CN=山田太郎/O=例え', {}],
    ['utf8 emoji', '/CN=🔐 vault', {}],
    ['control characters', '/CN=tab\there\x01\x7f', {}],
    ['multi-valued RDN', '/CN=a+OU=b/O=c', { multivalue: true }],
    ['multi-valued RDN, three', '/CN=z+O=y+UID=x/C=US', { multivalue: true }],
    ['emailAddress DC UID', '/DC=com/DC=example/UID=jdoe/emailAddress=jdoe@example.com/CN=John Doe', {}],
    ['serialNumber and friends', '/serialNumber=1234/title=Dr/GN=Ada/SN=Lovelace/initials=AL/pseudonym=al/street=1 Main St/postalCode=12345', {}],
    ['business and jurisdiction', '/businessCategory=Private Organization/jurisdictionC=US/jurisdictionST=Delaware/jurisdictionL=Dover/organizationIdentifier=VATUS-123', {}],
    ['unknown OID', '/1.2.3.4=foo/CN=x', {}],
    ['BMPString (string_mask pkix)', '/CN=Zoë/O=Ünïcödé', { mask: 'pkix' }],
    ['T61String (string_mask default)', '/CN=Zoë/O=plain', { mask: 'default' }],
    ['UniversalString (MASK)', '/CN=a😀b', { mask: 'MASK:0x0100' }],
    ['PrintableString (nombstr)', '/CN=plain value/C=DE', { mask: 'nombstr' }],
  ];

  test.each(subjects)('%s', (_label, subject, options) => {
    const der = opensslSelfSigned(dir, subject, options);
    const cert = new X509Certificate(der);
    const expected = namesByOpenssl(der);
    expect(subjectDn(cert)).toBe(expected.subject);
    expect(issuerDn(cert)).toBe(expected.issuer);
  });

  test('every ASCII character, in the middle, first, last and alone, in several string types', () => {
    const CN = '2.5.4.3';
    for (let b = 0; b < 0x80; b++) {
      const values = [
        utf8([0x61, b, 0x62]),
        utf8([b, 0x62]),
        utf8([0x61, b]),
        utf8([b]),
        tlv(0x1e, [0, b, 0, 0x41]), // BMPString, first
        tlv(0x1e, [0, b]), // BMPString, alone
        tlv(0x14, [0xe9, b]), // T61String, last after a Latin-1 character
        tlv(0x16, [b, 0x41, b]), // IA5String
      ];
      const name = nameDer(values.map((value) => [[CN, value]]));
      expect({ b, dn: formatDn(name) }).toEqual({ b, dn: namesByOpenssl(certWithSubject(name)).subject });
    }
  });

  const crafted: [string, Rdn[]][] = [
    ['empty name', []],
    ['empty value', [[['2.5.4.3', utf8('')]]]],
    ['multi-valued RDN in encoded (unsorted) order', [[['2.5.4.3', utf8('z')], ['2.5.4.10', utf8('a')], ['2.5.4.3', utf8('b')]], [['2.5.4.6', tlv(0x13, Buffer.from('US'))]]]],
    ['empty RDN is skipped', [[['2.5.4.3', utf8('z')]], [], [['2.5.4.6', tlv(0x13, Buffer.from('US'))]]]],
    ['UniversalString with leading/trailing space', [[['2.5.4.3', tlv(0x1c, [0, 0, 0, 0x20, 0, 1, 0xf6, 0, 0, 0, 0, 0x20])]]]],
    ['BMPString CJK and escapes', [[['2.5.4.3', tlv(0x1e, [0, 0x41, 0x4e, 0x2d, 0, 0x2c, 0, 0x20])]]]],
    ['IA5String with Latin-1 byte and NUL', [[['2.5.4.3', tlv(0x16, [0x41, 0xe9, 0x00])]]]],
    ['NumericString with a high byte', [[['2.5.4.3', tlv(0x12, [0x31, 0xff])]]]],
    ['UTF8String C1 control and noncharacter', [[['2.5.4.3', utf8('a\u0085b\ufffe')]]]],
    ['constructed UTF8String', [[['2.5.4.3', tlv(0x2c, Buffer.concat([utf8('a'), tlv(0x2c, utf8('b'))]))]]]],
    ['indefinite-length constructed UTF8String', [[['2.5.4.3', Buffer.from([0x2c, 0x80, 0x0c, 0x01, 0x61, 0, 0])]]]],
    ['UTF8String with a long-form length', [[['2.5.4.3', Buffer.from([0x0c, 0x81, 0x01, 0x61])]]]],
    ['BIT STRING value, padding bits cleared', [[['2.5.4.3', tlv(0x03, [0x04, 0x6f])]]]],
    ['BIT STRING of the unused-bits octet only', [[['2.5.4.3', tlv(0x03, [0x03])]]]],
    ['constructed BIT STRING', [[['2.5.4.3', tlv(0x23, tlv(0x03, [0x00, 0x61]))]]]],
    ['SEQUENCE value dumped verbatim', [[['2.5.4.3', Buffer.from([0x30, 0x81, 0x03, 0x0c, 0x01, 0x61])]]]],
    ['constructed EXTERNAL collected', [[['2.5.4.3', tlv(0x28, Buffer.concat([tlv(0x06, [0x2a]), tlv(0x04, [0x61])]))]]]],
    ['REAL, ObjectDescriptor, EMBEDDED PDV, TIME', [[['2.5.4.3', tlv(0x09, [0x80, 0x01])]], [['2.5.4.10', tlv(0x07, [0xff, 0x00])]], [['2.5.4.11', tlv(0x0b, [0x01])]], [['2.5.4.7', tlv(0x0e, [0x41])]]]],
    ['unknown OID: UTF8, BMP, constructed, SEQUENCE', [[['1.2.3.4', utf8('foo')]], [['1.2.3.5', tlv(0x1e, [0, 0x41])]], [['1.2.3.6', tlv(0x2c, Buffer.concat([utf8('a'), utf8('b')]))]], [['1.2.3.7', tlv(0x30, utf8('ab'))]]]],
    ['OID OpenSSL knows but not a DN attribute', [[['1.2.840.113549.1.1.1', utf8('rsa')]], [['2.5.29.17', utf8('san')]]]],
    ['long unknown OID cut at 79 characters', [[['1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31.32.33.34', utf8('x')]]]],
    ['UUID OID arc beyond 2^53', [[['2.25.329800735698586629295641978511506172918', utf8('x')]]]],
    ['first arc 2 with large second arc', [[['2.999.1', utf8('x')]]]],
  ];

  test.each(crafted)('crafted: %s', (_label, rdns) => {
    const name = nameDer(rdns);
    expect(formatDn(name)).toBe(namesByOpenssl(certWithSubject(name)).subject);
  });

  test('every attribute type in the OpenSSL table prints as the CLI prints it', () => {
    const { OPENSSL_SHORT_NAMES } = jest.requireActual<typeof import('nest-mtls/internal')>('nest-mtls/internal');
    const name = nameDer([...OPENSSL_SHORT_NAMES.keys()].map((oid) => [[oid, utf8('v')]]));
    expect(formatDn(name)).toBe(namesByOpenssl(certWithSubject(name)).subject);
  });

  const rejected: [string, Buffer][] = [
    ['OCTET STRING value', tlv(0x04, [0x61])],
    ['INTEGER value', tlv(0x02, [0x01])],
    ['VisibleString value', tlv(0x1a, Buffer.from('ab'))],
    ['SET value', tlv(0x31, utf8('ab'))],
    ['context-specific value', tlv(0x80, Buffer.from('ab'))],
    ['odd-length BMPString', tlv(0x1e, [0, 0x41, 0])],
    ['BMPString surrogate', tlv(0x1e, [0xd8, 0x3d, 0xde, 0x00])],
    ['UniversalString length not a multiple of 4', tlv(0x1c, [0, 0, 0x41])],
    ['UniversalString beyond U+10FFFF', tlv(0x1c, [0, 0x11, 0, 0])],
    ['invalid UTF-8', utf8([0x41, 0xff])],
    ['UTF-8 encoded surrogate', utf8([0xed, 0xa0, 0x80])],
    ['BIT STRING with 8 unused bits', tlv(0x03, [0x08, 0xff])],
    ['empty BIT STRING', tlv(0x03, [])],
  ];

  test.each(rejected)('throws where OpenSSL rejects the certificate: %s', (_label, value) => {
    const name = nameDer([[['2.5.4.3', value]]]);
    expect(() => formatDn(name)).toThrow(DnFormatError);
    expect(() => new X509Certificate(certWithSubject(name))).toThrow();
  });
});

describe('formatDn input handling', () => {
  test('accepts an ArrayBuffer and a Uint8Array view', () => {
    const der = Buffer.concat([Buffer.from([0xff]), nameDer([[['2.5.4.3', utf8('x')]]])]);
    const view = der.subarray(1);
    expect(formatDn(view)).toBe('CN=x');
    expect(formatDn(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength))).toBe('CN=x');
  });

  test('rejects what is not a Name', () => {
    expect(() => formatDn(Buffer.from([0x04, 0x01, 0x00]))).toThrow(DnFormatError);
    expect(() => formatDn(Buffer.from([0x30, 0x05]))).toThrow(DnFormatError);
  });
});
