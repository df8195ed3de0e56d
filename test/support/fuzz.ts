/**
 * Property-based fuzzing with fast-check: the settings every fuzz test uses
 * and the generators of hostile DER.
 *
 * - A fixed seed, so CI runs the same cases every time (`FUZZ_SEED=<n>`
 *   runs others, `FUZZ_SEED=random` a new one per run); fast-check prints it
 *   with the path of a failing case: `FUZZ_SEED=<seed> npx jest <file>`
 *   replays a failure.
 * - Run counts are sized so that test/unit/fuzz takes well under 20 s on the
 *   project's 2-core machine; `FUZZ_SCALE=20` multiplies them for a long run.
 * - Each property has a generous total deadline (`fuzzed()`): a case that
 *   makes a parser crawl fails the run (with its seed) instead of slowing it.
 */
import fc from 'fast-check';
import { derLength, oidDer, tlv } from './der';

const FIXED_SEED = 20261207;
const seed = process.env.FUZZ_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED ?? FIXED_SEED);
const scale = Number(process.env.FUZZ_SCALE ?? 1);
fc.configureGlobal({ seed });

/** fast-check parameters: `runs` cases (times FUZZ_SCALE), failing when they take longer than `deadlineMs` in all. */
export function fuzzed<T>(runs: number, deadlineMs = 15_000): fc.Parameters<T> {
  return { numRuns: Math.max(1, Math.round(runs * scale)), interruptAfterTimeLimit: deadlineMs * scale, markInterruptAsFailure: true };
}

/** How many cases a batch of `runs` has (for properties checked against an external oracle in one batch). */
export const scaled = (runs: number): number => Math.max(1, Math.round(runs * scale));

/** The seed of this run (for messages of batch checks that fast-check does not report itself). */
export const fuzzSeed = seed;

/** Runs `fn`; a throw is returned (for properties over what a parser may throw). */
export function outcome<T>(fn: () => T): { value: T } | { error: unknown } {
  try {
    return { value: fn() };
  } catch (error) {
    return { error };
  }
}

/** A length in the short form, or in a needlessly long form (BER, which some parsers take). */
const lengthOf = (length: number, long: boolean): Buffer => (long && length < 0x80 ? Buffer.from([0x81, length]) : derLength(length));

/** A primitive element: a tag (universal string types most often, then any identifier octet) and a few content octets. */
const primitive = fc
  .record({
    identifier: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(0x0c, 0x13, 0x14, 0x16, 0x1e, 0x1c, 0x12, 0x03, 0x04, 0x02, 0x05, 0x00) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xff }).map((b) => b & ~0x20) },
    ),
    content: fc.uint8Array({ maxLength: 8 }),
    long: fc.boolean(),
  })
  .map(({ identifier, content, long }) => {
    // A high tag number (0x1f) takes a second identifier octet.
    const id = (identifier & 0x1f) === 0x1f ? [identifier, 0x25] : [identifier];
    return Buffer.concat([Buffer.from(id), lengthOf(content.length, long), content]);
  });

/** BER elements nested a few levels: constructed strings and sequences, definite or indefinite lengths. */
export const berElement: fc.Arbitrary<Buffer> = fc.letrec<{ element: Buffer; constructed: Buffer }>((tie) => ({
  element: fc.oneof({ depthSize: 'small', withCrossShrink: true }, primitive, tie('constructed')),
  constructed: fc
    .record({
      identifier: fc.constantFrom(0x2c, 0x3e, 0x3c, 0x33, 0x34, 0x36, 0x23, 0x24, 0x30, 0x31, 0xa0, 0x3f),
      indefinite: fc.boolean(),
      long: fc.boolean(),
      children: fc.array(tie('element'), { maxLength: 4 }),
    })
    .map(({ identifier, indefinite, long, children }) => {
      const body = Buffer.concat(children);
      const id = Buffer.from(identifier === 0x3f ? [0x3f, 0x25] : [identifier]);
      return indefinite ? Buffer.concat([id, Buffer.from([0x80]), body, Buffer.from([0, 0])]) : Buffer.concat([id, lengthOf(body.length, long), body]);
    }),
})).element;

/** `bytes` with up to three octets overwritten, inserted or removed, or cut short: almost right, which is what finds bugs. */
export function mutated(bytes: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  const edit = fc.record({ at: fc.nat(), kind: fc.constantFrom('set', 'insert', 'delete', 'cut'), byte: fc.integer({ min: 0, max: 0xff }) });
  return fc.tuple(bytes, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([original, edits]) => {
    let out = Buffer.from(original);
    for (const { at, kind, byte } of edits) {
      if (out.length === 0) break;
      const i = at % out.length;
      if (kind === 'set') out[i] = byte;
      else if (kind === 'insert') out = Buffer.concat([out.subarray(0, i), Buffer.from([byte]), out.subarray(i)]);
      else if (kind === 'delete') out = Buffer.concat([out.subarray(0, i), out.subarray(i + 1)]);
      else out = out.subarray(0, i);
    }
    return out;
  });
}

/** Text with the characters DN escaping is about (specials, spaces, `#`, quotes, controls, non-ASCII, astral). */
export const dnText = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...'aZ09 ,+;<>"\\=#-.\'\n\r\t\u0000\u007f\u0085é山😀\u2028\ufffe'.split(/(?:)/u)) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  ),
  maxLength: 12,
});

const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();
const utf32be = (text: string) => Buffer.concat(Array.from(text, (ch) => { const b = Buffer.alloc(4); b.writeUInt32BE(ch.codePointAt(0) as number); return b; }));

/** An attribute value: well-formed strings of every type (most often), arbitrary bytes in a string type, or any BER element. */
export const attributeValue: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: dnText.map((text) => tlv(0x0c, Buffer.from(text, 'utf8'))) },
  { weight: 1, arbitrary: dnText.map((text) => tlv(0x1e, utf16be(text))) },
  { weight: 1, arbitrary: dnText.map((text) => tlv(0x1c, utf32be(text))) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0x13, 0x14, 0x16, 0x12), fc.uint8Array({ maxLength: 8 })).map(([tag, bytes]) => tlv(tag, Buffer.from(bytes))) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0x0c, 0x1e, 0x1c), fc.uint8Array({ maxLength: 8 })).map(([tag, bytes]) => tlv(tag, Buffer.from(bytes))) },
  { weight: 2, arbitrary: berElement },
);

/** Attribute types: the ones every DN has, ones only OpenSSL or only Java names, and unknown OIDs. */
export const attributeType = fc.oneof(
  fc.constantFrom(
    '2.5.4.3', '2.5.4.10', '2.5.4.11', '2.5.4.6', '2.5.4.7', '2.5.4.8', '0.9.2342.19200300.100.1.1', '0.9.2342.19200300.100.1.25',
    '1.2.840.113549.1.9.1', '2.5.4.5', '2.5.4.17', '2.5.4.46', '1.3.6.1.4.1.42.2.11.2.1', '2.5.4.97',
  ),
  fc.array(fc.nat({ max: 2 ** 20 }), { minLength: 1, maxLength: 4 }).map((arcs) => `1.3.${arcs.join('.')}`),
);

/** RDNs in encoded order, each `[[oid, encoded value], ...]` (an empty RDN now and then). */
export const rdns = fc.array(fc.array(fc.tuple(attributeType, attributeValue), { minLength: 0, maxLength: 3 }), { maxLength: 4 });

/** The DER of an X.501 Name from RDNs (as test/support/der.ts nameDer, typed for the generator). */
export function nameOf(list: [string, Buffer][][]): Buffer {
  return tlv(0x30, Buffer.concat(list.map((rdn) => tlv(0x31, Buffer.concat(rdn.map(([oid, value]) => tlv(0x30, Buffer.concat([oidDer(oid), value]))))))));
}
