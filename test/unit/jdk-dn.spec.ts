import { X509Certificate } from 'node:crypto';
import { identityFromCertificate } from 'nest-mtls/internal';
import { DnPattern } from 'nest-mtls/internal';
import { JavaRegexError, javaFullMatchRegExp } from 'nest-mtls/internal';
import { createIntermediateCa } from 'nest-mtls/testing';
import { resignedWithSubject } from '../support/crafted-certificate';
import { nameDer, tlv, utf8, type Rdn } from '../support/der';
import { JavaDnOracle, type JavaAnswers } from '../support/java-dn';
import { requireTool } from '../support/require-tool';
import { TestPki } from '../support/test-pki';

/**
 * Differential tests of the `jdk` DN form against Java 17 itself: every
 * certificate of the corpus is printed by test/support/java/JdkDn.java
 * (`X509Certificate.getSubjectDN().getName()`, what the article's filter
 * matches) and must come out byte for byte the same from
 * identityFromCertificate(cert, { dnFormat: 'jdk' }); every regex must admit
 * and refuse what `Pattern.compile(re).matcher(dn).matches()` does. The Java
 * program is compiled once for this file and run once for the whole corpus.
 */
const hasJava = requireTool('javac', 'the Java differential DN tests') && requireTool('java', 'the Java differential DN tests');
const describeJava = hasJava ? describe : describe.skip;

const CN = '2.5.4.3';
const O = '2.5.4.10';
const OU = '2.5.4.11';
const C = '2.5.4.6';
const UID = '0.9.2342.19200300.100.1.1';
const DC = '0.9.2342.19200300.100.1.25';
const EMAIL = '1.2.840.113549.1.9.1';
const printable = (s: string) => tlv(0x13, Buffer.from(s, 'latin1'));
const ia5 = (s: string) => tlv(0x16, Buffer.from(s, 'latin1'));
const t61 = (bytes: number[]) => tlv(0x14, bytes);
const bmp = (s: string) => tlv(0x1e, Buffer.from(s, 'utf16le').swap16());
const universal = (s: string) => tlv(0x1c, Buffer.concat(Array.from(s, (ch) => { const b = Buffer.alloc(4); b.writeUInt32BE(ch.codePointAt(0) as number); return b; })));

/** Subjects written as RFC 4514 strings (our PKI encodes them; a `+` RDN is encoded in reverse, as openssl prints it). */
const ISSUED: [string, string][] = [
  ['the article: service1', 'CN=service1.example.com,OU=Engineering,O=Example,L=San Francisco,ST=California,C=US'],
  ['the article: home-page-service', 'CN=home-page-service,OU=Engineering,O=Example,L=San Francisco,ST=California,C=US'],
  ['the article: event-service', 'CN=event-service,OU=Engineering,O=Example,L=San Francisco,ST=California,C=US'],
  ['a contractor', 'CN=bob,OU=Contractors,O=Example'],
  ['a contractor, OU last', 'CN=carol,O=Example,OU=Contractors'],
  ['multi-valued RDN (rfc4514 string CN=...+UID=...)', 'CN=home-page-service+UID=hp,O=Example'],
  ['email, DC, UID', 'emailAddress=jdoe@example.com,CN=John Doe,UID=jdoe,DC=example,DC=com'],
  ['serialNumber, title, GN, initials, generationQualifier, dnQualifier, street, postalCode', 'serialNumber=1234,title=Dr,GN=Ada,initials=AL,generationQualifier=III,dnQualifier=q1,street=1 Main St,postalCode=94105,CN=ada'],
  ['unknown OID with a string value', '1.2.3.4=foo,CN=x'],
  ['comma', 'CN=Doe\\, John,O=Example'],
  ['a CN smuggling ,O=Example', 'CN=api\\,O=Example'],
  ['plus', 'CN=a\\+b'],
  ['double quotes', 'CN=say \\"hi\\"'],
  ['backslash', 'CN=back\\\\slash'],
  ['leading and trailing spaces', 'CN=\\  padded \\ '],
  ['two spaces inside', 'CN=two  spaces'],
  ['leading #', 'CN=\\#hash'],
  ['equals', 'CN=a=b=c'],
  ['semicolon and angle brackets', 'CN=<tag>\\;x'],
  ['characters Java prints as they are', 'CN=under_score@star*!&%~'],
  ['non-ASCII (UTF8String)', 'CN=José Müller,O=Société Générale'],
  ['CJK and emoji', 'CN=山田太郎 🔐,O=例え'],
  ['a very long CN', `CN=${'long-name-'.repeat(60)}end,O=Example`],
];

/** Subjects crafted byte by byte (string types, encodings, RDN shapes no library writes), in encoded order. */
const CRAFTED: [string, Rdn[]][] = [
  ['multi-valued RDN, UID encoded first', [[[O, utf8('Example')]], [[UID, utf8('hp')], [CN, utf8('home-page-service')]]]],
  ['multi-valued RDN of three with an unknown OID', [[[C, printable('US')]], [[CN, utf8('z')], ['1.2.3.4', utf8('v')], [O, utf8('a,b')]]]],
  ['a single RDN', [[[CN, utf8('only')]]]],
  ['an empty RDN in the middle', [[[C, printable('US')]], [], [[CN, utf8('z')]]]],
  ['an empty value', [[[O, utf8('Example')]], [[CN, utf8('')]]]],
  ['a value already in quotes', [[[CN, utf8('"a,b"')]]]],
  ['a lone double quote', [[[CN, utf8('"')]], [[OU, utf8('"x')]], [[O, utf8('x"')]]]],
  ['newline, carriage return, tab, NUL, DEL', [[[CN, utf8('line\nbreak')]], [[OU, utf8('cr\rtab\there')]], [[O, utf8('nul\u0000del\u007f')]]]],
  ['space then newline at the end', [[[CN, utf8('a \n')]], [[OU, utf8('\nb')]]]],
  ['NEL and line separator', [[[CN, utf8('a\u0085b\u2028c')]]]],
  ['PrintableString, IA5String', [[[C, printable('US')]], [[O, printable("Example (Ltd.) +,-./:=?'")]], [[EMAIL, ia5('ops@example.com')]], [[DC, ia5('example')]]]],
  ['T61String with Latin-1 bytes', [[[CN, t61([0x5a, 0x6f, 0xeb, 0x2c, 0x20])]]]],
  ['PrintableString and IA5String with a byte above 0x7F', [[[CN, printable('a\xe9b')]], [[OU, ia5('c\xffd')]]]],
  ['BMPString', [[[CN, bmp('Zoë, "BMP" <x>')]], [[O, bmp('Ünïcödé')]]]],
  ['UniversalString', [[[CN, universal('a😀b ')]]]],
  ['NumericString (not a string to Java)', [[[CN, tlv(0x12, Buffer.from('12 34'))]], [[O, utf8('x')]]]],
  ['BIT STRING values', [[[CN, tlv(0x03, [0x04, 0x6f])]], [[OU, tlv(0x03, [0x00])]]]],
  ['a constructed UTF8String', [[[CN, tlv(0x2c, Buffer.concat([utf8('a'), utf8('b')]))]]]],
  ['an indefinite-length constructed UTF8String', [[[CN, Buffer.from([0x2c, 0x80, 0x0c, 0x01, 0x61, 0, 0])]]]],
  ['a UTF8String with a long-form length', [[[CN, Buffer.from([0x0c, 0x81, 0x01, 0x61])]]]],
  ['unknown OIDs: UTF8, BMP, SEQUENCE; postalCode', [[['1.2.3.4', utf8('foo')]], [['1.3.6.1.4.1.99999.1', bmp('b,mp')]], [['1.2.3.7', tlv(0x30, utf8('ab'))]], [['2.5.4.17', utf8('94105')]]]],
  ['OIDs with a keyword for Java only: IP, SURNAME, STREET', [[['1.3.6.1.4.1.42.2.11.2.1', ia5('10.0.0.1')]], [['2.5.4.4', utf8('Lovelace')]], [['2.5.4.9', utf8('1 Main St')]]]],
  ['a UUID OID arc beyond 2^53', [[['2.25.329800735698586629295641978511506172918', utf8('x')]]]],
];

/** Regexes written the article's way, against the Java DN: both the article's two, allow and deny styles. */
const DN_REGEXES = [
  '^CN=home-page-service, OU=Engineering, O=Example, .*$',
  '^(?!.*, OU=Contractors(,|$)).*$',
  '^CN=service1\\.example\\.com, OU=Engineering, O=Example, L=San Francisco, ST=California, C=US$',
  '^CN=service1\\.example\\.com$',
  'CN=home-page-service.*',
  '.*OU=Engineering.*',
  '(?i)^cn=HOME-page-service,.*',
  '^(CN=home-page-service|CN=event-service), OU=Engineering, .*',
  '^UID=hp \\+ CN=home-page-service, O=Example$',
  '^CN="[^"]*"(, .*)?$',
  '^EMAILADDRESS=[a-z]+@example\\.com, .*',
  '\\QCN=a+b\\E',
  '^[^,]+, O=Example$',
  '^(?:(?!OU=Contractors).)*$',
  '.*OU=Contractors$',
  '^CN=#[0-9a-f]+.*',
  '^OID\\.2\\.5\\.4\\.17=\\d{5}, .*',
  '^.*(?<=, )O=Example(, .*)?$',
  '^CN=[a-z]{3,}?-service, .*',
  '^CN=[\\w-]+, .*',
  '^CN=.*\\s.*$',
  '^CN=.{1,3}$',
  '^CN=(?<name>[^,]+), O=(?<org>[^,]+)$',
  '^[A-Z]+=\\S+(, [A-Z.0-9]+=\\S+)*$',
  '(?s)^CN=.*$',
  '^CN=.*$',
  '.*\\u00e9.*',
  '.*\\x{1F510}.*',
  '.*[\\uD83D\\uDD10].*',
];

/** Texts that probe the corners where Java and JavaScript regexes differ. */
const TEXTS = [
  '',
  'abc',
  'ABC',
  'abc\n',
  'abc\r\n',
  'abc\r',
  'abc\n\n',
  'abc\u0085',
  'abc\u2028',
  'abc\u2029',
  'a\u0085c',
  'a\nc',
  'a c',
  'a\u00a0c',
  'a\tc',
  'a\u000bc',
  'é',
  'É',
  'k',
  'K',
  '\u212a', // Kelvin sign: Unicode case-folds to k, Java's default (ASCII) case-insensitivity does not
  'ſ', // long s: folds to s in Unicode only
  '😀',
  '\ud83d',
  'x_1',
  'a-b',
  '[]',
  '\u0007\u001b',
  'A\u0000B',
];

/** Regexes over the texts: each construct the translation handles, where Java and JavaScript could disagree. */
const SEMANTIC_REGEXES = [
  'abc$',
  'abc\\Z',
  'abc\\z',
  'abc$\\n',
  'abc$\\r\\n',
  '\\Aabc.*',
  '.*',
  '(?s).*',
  'a.c',
  '(?s)a.c',
  '(?s:a.)c',
  'a\\sc',
  'a\\Sc',
  'a[\\s]c',
  'a[^\\S]c',
  '\\w+',
  '[\\w]+',
  '\\W',
  '\\d*',
  '[\\D]*',
  '(?i)abc',
  '(?i)[a-c]+',
  '(?i)[^a-c]+',
  '(?i)k',
  '(?i)[k]',
  '(?i)s',
  '(?i)é',
  'a(?i)bc',
  '(?i)a(?-i)bc',
  '(?i:a)bc',
  'a(?i)b|c',
  '\\x{1F600}',
  '\\uD83D\\uDE00',
  '\\uD83D',
  '.',
  '[^a]',
  '\\a\\e',
  '\\07\\033',
  '\\0101\\0102\\0103',
  '\\cG\\c[',
  'A\\x00B',
  '\\Qa-b\\E',
  '\\Q[]\\E',
  '[\\Q]\\E\\[]+',
  '[a-]-b',
  '[-a]-b',
  'x\\_1',
  'a\\-b',
  'a\\ c',
  'a{1,2}b{0}c',
  'a{2,}',
  '(a|ab)(c|bcd)?',
  '(?=a)abc',
  '(?!b)...',
  '.*(?<!b)c',
  '(?<=ab)c|abc',
  'ab+?c',
];

/** Java syntax JavaScript cannot match exactly: refused, naming the construct; Java itself compiles each. */
const REFUSED: [string, string][] = [
  ['^CN=a*+$', '*+'],
  ['^CN=a++, .*', '++'],
  ['^CN=a?+', '?+'],
  ['^CN=a{2}+', '{2}+'],
  ['(?>CN=a|CN=ab), .*', '(?>'],
  ['^CN=\\p{javaLowerCase}+, .*', '\\p{javaLowerCase}'],
  ['^CN=\\p{Lower}+, .*', '\\p{Lower}'],
  ['^CN=\\p{L}+', '\\p{L}'],
  ['^CN=\\P{IsLatin}', '\\P{IsLatin}'],
  ['(?x)^CN = a', '(?x'],
  ['(?d)^CN=a.*', '(?d'],
  ['(?u)(?i)^cn=é', '(?u'],
  ['(?m)^CN=a$', '(?m'],
  ['(?U)^CN=\\w+', '(?U'],
  ['.*\\bOU=Engineering\\b.*', '\\b'],
  ['.*\\BOU.*', '\\B'],
  ['\\GCN=a', '\\G'],
  ['^CN=\\h', '\\h'],
  ['^CN=\\v', '\\v'],
  ['^CN=\\R', '\\R'],
  ['^CN=\\X', '\\X'],
  ['^CN=\\N{LATIN SMALL LETTER A}', '\\N'],
  ['^CN=[a-z&&[^e]]+', '&&'],
  ['^CN=[a-d[m-p]]+', '['],
  ['^(CN)=\\1', '\\1'],
  ['^(?<t>CN)=\\k<t>', '\\k'],
  ['^CN=(?=a)*', '(?=a)*'],
  ['^CN=a{2}{3}', '{2}{'],
  ['(?<=a*)b', '(?<=a*)'],
  ['[]a]', '[]'],
];

/** Not Java regexes at all: Java refuses to compile them, and so does the translation. */
const INVALID = ['a{3,1}', '*a', 'a**', '(?<_a>x)', '\\y', '\\E', '[a-\\d]', '(a', 'a)', '[^]', '\\0', '\\x{110000}', 'a{,3}', '{a'];

describeJava('the jdk DN form against Java 17', () => {
  let pki: TestPki;
  const corpus: { label: string; cert: X509Certificate }[] = [];
  let java: JavaAnswers;
  const allRegexes = [...DN_REGEXES, ...SEMANTIC_REGEXES, ...REFUSED.map(([re]) => re), ...INVALID];

  beforeAll(async () => {
    pki = await TestPki.create();
    const oracle = JavaDnOracle.compile(pki); // javac once for this file
    for (const [i, [label, subject]] of ISSUED.entries()) corpus.push({ label, cert: (await pki.issue(`jdk-${i}`, { subject })).issued.certificate });
    // An issuing CA with a name Java quotes, so the issuer DN is tested too.
    const oddCa = await createIntermediateCa(pki.root, { subject: 'CN=Issuing CA\\, Ops+OU=Platform,O=Example  Inc,C=US' });
    corpus.push({ label: 'issued by a CA with a quoted, multi-valued name', cert: (await pki.issue('odd-issuer', { subject: 'CN=from-odd-ca' }, oddCa)).issued.certificate });
    const leaf = pki.certs['home-page-service'].issued; // has SANs: Java accepts an empty subject only with a critical SAN extension
    for (const [label, rdns] of CRAFTED) corpus.push({ label, cert: new X509Certificate(resignedWithSubject(leaf, pki.global, nameDer(rdns))) });
    const emptySubject = resignedWithSubject(leaf, pki.global, nameDer([]), { criticalSubjectAltName: true });
    corpus.push({ label: 'an empty subject (with SANs)', cert: new X509Certificate(emptySubject) });
    java = oracle.run({ certificates: corpus.map((c) => c.cert), texts: TEXTS, regexes: allRegexes }); // java once for everything
  });
  afterAll(() => pki?.cleanup());

  it('has a corpus of at least 30 certificates and 10 DN regexes, all read by Java', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
    expect(DN_REGEXES.length).toBeGreaterThanOrEqual(10);
    expect(java.certificates.filter((c) => 'error' in c)).toEqual([]);
  });

  it('prints every subject and issuer byte for byte as getSubjectDN().getName() and getIssuerDN().getName()', () => {
    const ours = corpus.map(({ label, cert }) => {
      const identity = identityFromCertificate(cert, { dnFormat: 'jdk' });
      return { label, subject: identity.subject, issuer: identity.issuer };
    });
    const theirs = corpus.map(({ label }, i) => ({ label, ...(java.certificates[i] as { subject: string; issuer: string }) }));
    expect(ours).toEqual(theirs);
  });

  it('prints the article-style DNs as the article shows them', () => {
    const dn = (label: string) => identityFromCertificate(corpus.find((c) => c.label === label)!.cert, { dnFormat: 'jdk' }).subject;
    expect(dn('the article: service1')).toBe('CN=service1.example.com, OU=Engineering, O=Example, L=San Francisco, ST=California, C=US');
    expect(dn('multi-valued RDN, UID encoded first')).toBe('UID=hp + CN=home-page-service, O=Example');
    expect(dn('comma')).toBe('CN="Doe, John", O=Example');
    expect(dn('an empty subject (with SANs)')).toBe('');
  });

  it('admits and refuses as Pattern.compile(re).matcher(dn).matches() for every regex, subject and text', () => {
    const subjects = corpus.map((c) => identityFromCertificate(c.cert, { dnFormat: 'jdk' }).subject);
    const translatable = [...DN_REGEXES, ...SEMANTIC_REGEXES];
    const ours = translatable.map((re) => {
      const pattern = new DnPattern(re, 'test');
      return { re, subjects: subjects.map((s) => pattern.test(s, 'jdk')), texts: TEXTS.map((t) => pattern.test(t, 'jdk')) };
    });
    const theirs = translatable.map((re) => ({ re, ...(java.regexes[allRegexes.indexOf(re)] as { subjects: boolean[]; texts: boolean[] }) }));
    expect(ours).toEqual(theirs);
  });

  it('the article regexes: the allow-list admits home-page-service only, the deny-list refuses the contractors', () => {
    const verdicts = (re: string) => {
      const pattern = new DnPattern(re, 'test');
      return Object.fromEntries(corpus.slice(0, 5).map((c) => [c.label, pattern.test(identityFromCertificate(c.cert, { dnFormat: 'jdk' }).subject, 'jdk')]));
    };
    expect(verdicts(DN_REGEXES[0])).toEqual({
      'the article: service1': false,
      'the article: home-page-service': true,
      'the article: event-service': false,
      'a contractor': false,
      'a contractor, OU last': false,
    });
    expect(verdicts(DN_REGEXES[1])).toEqual({
      'the article: service1': true,
      'the article: home-page-service': true,
      'the article: event-service': true,
      'a contractor': false,
      'a contractor, OU last': false,
    });
  });

  it('refuses Java syntax JavaScript cannot match exactly, naming the construct (Java compiles every one of them)', () => {
    const refusals = REFUSED.map(([re]) => {
      let error: unknown;
      try {
        javaFullMatchRegExp(re);
      } catch (err) {
        error = err;
      }
      const refused = error instanceof JavaRegexError ? { construct: error.construct, kind: error.kind } : { construct: `not refused: ${String(error)}` };
      return { re, ...refused, javaCompiles: !('bad' in java.regexes[allRegexes.indexOf(re)]) };
    });
    expect(refusals).toEqual(REFUSED.map(([re, construct]) => ({ re, construct, kind: 'unsupported', javaCompiles: true })));
  });

  it('refuses what Java refuses to compile', () => {
    const invalid = INVALID;
    expect(invalid.map((re) => ({ re, javaRefuses: 'bad' in java.regexes[allRegexes.indexOf(re)] }))).toEqual(invalid.map((re) => ({ re, javaRefuses: true })));
    const kinds = invalid.map((re) => {
      try {
        javaFullMatchRegExp(re);
        return { re, kind: 'translated' };
      } catch (err) {
        return { re, kind: err instanceof JavaRegexError ? err.kind : String(err) };
      }
    });
    expect(kinds).toEqual(invalid.map((re) => ({ re, kind: 'invalid' })));
  });
});
