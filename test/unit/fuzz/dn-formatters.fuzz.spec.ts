import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { createRootCa } from 'nest-mtls/testing';
import { DnFormatError, formatDn, formatJdkDn, nameAttributes } from 'nest-mtls/internal';
import { tlv } from '../../support/der';
import { certificateWithSubject, javaPrintsSubjects, opensslPrintsNames } from '../../support/dn-oracles';
import { attributeType, berElement, dnText, fuzzed, fuzzSeed, mutated, nameOf, outcome, rdns, scaled } from '../../support/fuzz';
import { JavaDnOracle } from '../../support/java-dn';
import { requireTool } from '../../support/require-tool';
import { TempDir } from '../../support/temp-dir';

/**
 * The DN formatters under fuzzing: both forms (RFC 4514 as OpenSSL prints it,
 * and Java's) take any bytes without crashing, print exactly what OpenSSL and
 * Java print for generated names, refuse exactly what OpenSSL refuses, and
 * never print two different names the same way.
 */
const hasGcc = requireTool('gcc', 'the DN fuzz tests against OpenSSL');
const hasJava = requireTool('javac', 'the DN fuzz tests against Java') && requireTool('java', 'the DN fuzz tests against Java');

/** Names as the generators make them: well-formed (most), and almost well-formed. */
const names = fc.oneof({ weight: 2, arbitrary: rdns.map(nameOf) }, { weight: 1, arbitrary: mutated(rdns.map(nameOf)) });

let dir: TempDir;
beforeAll(() => {
  dir = new TempDir('dn-fuzz-');
});
afterAll(() => dir?.cleanup());

/** The shortest of the inputs where `differs` holds, in hex, with the seed: what a failure report needs. */
function firstDifference<T>(inputs: Buffer[], differs: (input: Buffer, n: number) => T | undefined): string | undefined {
  const found = inputs
    .map((input, n) => ({ input, difference: differs(input, n) }))
    .filter((c) => c.difference !== undefined)
    .sort((a, b) => a.input.length - b.input.length);
  if (found.length === 0) return undefined;
  return `${found.length} of ${inputs.length} differ (FUZZ_SEED=${fuzzSeed}); the shortest: ${found[0].input.toString('hex')}: ${JSON.stringify(found[0].difference)}`;
}

test('any bytes: both forms return a string or throw DnFormatError, nothing else, and leave the bytes as they were', () => {
  const input = fc.oneof(fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b)), names, mutated(berElement));
  fc.assert(
    fc.property(input, (bytes) => {
      const before = Buffer.from(bytes);
      for (const format of [formatDn, formatJdkDn]) {
        const result = outcome(() => format(bytes));
        if ('error' in result) expect(result.error).toBeInstanceOf(DnFormatError);
        else expect(typeof result.value).toBe('string');
      }
      expect(bytes.equals(before)).toBe(true);
    }),
    fuzzed(4000),
  );
});

(hasGcc ? test : test.skip)('formatDn prints what OpenSSL prints, and throws where OpenSSL refuses the name', () => {
  const inputs = fc.sample(names, { numRuns: scaled(3000), seed: fuzzSeed });
  const openssl = opensslPrintsNames(dir, inputs);
  const difference = firstDifference(inputs, (name, n) => {
    const ours = outcome(() => formatDn(name));
    const theirs = openssl[n];
    if ('error' in ours) return theirs === undefined ? undefined : { ours: String(ours.error), openssl: theirs };
    return ours.value === theirs ? undefined : { ours: ours.value, openssl: theirs ?? 'refused' };
  });
  expect(difference).toBeUndefined();
  // The generators reach both sides: names OpenSSL takes and names it refuses.
  expect(openssl.filter((s) => s !== undefined).length).toBeGreaterThan(inputs.length / 4);
  expect(openssl.filter((s) => s === undefined).length).toBeGreaterThan(inputs.length / 20);
});

(hasJava ? test : test.skip)('formatJdkDn prints what Java prints, for every name OpenSSL takes', async () => {
  const template = (await createRootCa({ subject: 'CN=template' })).certificate;
  const java = JavaDnOracle.compile(dir);
  const inputs: Buffer[] = [];
  const certificates: X509Certificate[] = [];
  for (const name of fc.sample(names, { numRuns: scaled(3000), seed: fuzzSeed + 1 })) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certificateWithSubject(template, name)); // what Node (OpenSSL) takes
    } catch {
      continue;
    }
    inputs.push(name);
    certificates.push(cert);
  }
  const answers = javaPrintsSubjects(java, certificates);
  // The name reader follows OpenSSL 3.0's rules (the system OpenSSL the test above compares with). Node 22 and 24
  // bundle OpenSSL 3.5, which takes a few names 3.0 refuses (a long-form length with nothing after it ending the
  // Name): nest-mtls refuses those ("Certificate subject is not recognized!", failing closed), so they are compared
  // only where OpenSSL 3.0 takes them too.
  const openssl = hasGcc ? opensslPrintsNames(dir, inputs) : inputs.map(() => '');
  const difference = firstDifference(inputs, (name, n) => {
    const ours = outcome(() => formatJdkDn(name));
    const theirs = answers[n];
    if (theirs === undefined) return undefined; // Java refuses a certificate Node takes: nothing to compare
    if (openssl[n] === undefined) return undefined; // OpenSSL 3.0 refuses it (see above)
    if ('error' in ours) return { ours: String(ours.error), java: theirs };
    return ours.value === theirs ? undefined : { ours: ours.value, java: theirs };
  });
  expect(difference).toBeUndefined();
  expect(answers.filter((s) => s !== undefined).length).toBeGreaterThan(inputs.length / 4); // Java refuses much of the BER Node takes
}, 120_000);

test('formatDn never prints two names the same way: its output reads back (RFC 4514) as exactly the attributes it printed', () => {
  // Attribute types OpenSSL has short names for, UTF8String values of any text: every escape is exercised.
  const value = fc.tuple(fc.constantFrom('2.5.4.3', '2.5.4.10', '2.5.4.11', '2.5.4.7', '0.9.2342.19200300.100.1.1', '1.2.3.4'), dnText);
  const name = fc.array(fc.array(value, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 });
  fc.assert(
    fc.property(name, (list) => {
      const der = nameOf(list.map((rdn) => rdn.map(([oid, text]) => [oid, tlv(0x0c, Buffer.from(text, 'utf8'))])));
      const printed = nameAttributes(der).map((rdn) => rdn.map((a) => [a.label, a.text ?? a.printed]));
      expect(readRfc4514(formatDn(der))).toEqual(printed);
    }),
    fuzzed(2000),
  );
});

/**
 * A strict reader of RFC 4514 strings as OpenSSL prints them (`,` between
 * RDNs, `+` inside one, `\` + a special or two hex digits of a UTF-8 octet):
 * the test's own, so that the formatter's escaping is checked by something
 * that is not the formatter.
 */
function readRfc4514(dn: string): string[][][] {
  if (dn === '') return [];
  const rdns: string[][][] = [[]];
  let type = '';
  let octets: number[] = [];
  let inValue = false;
  const close = () => {
    rdns[rdns.length - 1].push([type, Buffer.from(octets).toString('utf8')]);
    type = '';
    octets = [];
    inValue = false;
  };
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i];
    if (!inValue) {
      if (c === '=') inValue = true;
      else type += c;
      continue;
    }
    if (c === '\\') {
      const pair = dn.slice(i + 1, i + 3);
      if (/^[0-9A-F]{2}$/.test(pair)) {
        octets.push(parseInt(pair, 16));
        i += 2;
      } else {
        expect(' "#+,;<=>\\').toContain(dn[i + 1]); // nothing else is escaped
        octets.push(dn.charCodeAt(++i));
      }
    } else if (c === ',' || c === '+') {
      close();
      if (c === ',') rdns.push([]);
    } else {
      const char = String.fromCodePoint(dn.codePointAt(i) as number);
      octets.push(...Buffer.from(char, 'utf8'));
      i += char.length - 1;
    }
  }
  close();
  return rdns;
}

test('attribute types of any OID are printed without crashing', () => {
  fc.assert(
    fc.property(attributeType, (oid) => {
      expect(typeof formatDn(nameOf([[[oid, Buffer.from([0x0c, 0x01, 0x61])]]]))).toBe('string');
    }),
    fuzzed(500),
  );
});
