import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';
import fc from 'fast-check';
import { CrlFormatError, DerReader, normalizeSerial, parseCrl } from 'nest-mtls/internal';
import { oidDer, tlv } from '../../support/der';
import { fuzzed, mutated, nameOf, outcome, rdns } from '../../support/fuzz';

/**
 * The CRL index and the hand-written DER walker under it (kept for its speed
 * on large CRLs) under fuzzing: any bytes are either a CRL or a
 * CrlFormatError, never another throw or a hang; a well-formed CRL revokes
 * exactly its serial numbers; a damaged one that is still accepted never
 * revokes a serial number its bytes do not list, and agrees with
 * @peculiar/asn1-x509 where that decoder reads it too.
 */

const REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold'];

/** The content octets of a positive DER INTEGER from any bytes (minimal: no redundant leading zero, a zero before a high bit). */
function integerContent(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const body = Buffer.from(bytes.subarray(i));
  if (body.length === 0) return Buffer.from([0]);
  return body[0] & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : body;
}

const utcTime = (date: Date) => tlv(0x17, Buffer.from(date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z', 'latin1'));
const generalizedTime = (date: Date) => tlv(0x18, Buffer.from(date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z', 'latin1'));
const extension = (oid: string, value: Buffer, critical = false) => tlv(0x30, Buffer.concat([oidDer(oid), critical ? tlv(0x01, [0xff]) : Buffer.alloc(0), tlv(0x04, value)]));

const date = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2049-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000));

const entry = fc.record({
  serial: fc.uint8Array({ minLength: 1, maxLength: 20 }).map(integerContent),
  revokedAt: date,
  reason: fc.option(fc.integer({ min: 0, max: REASONS.length - 1 }), { nil: undefined }),
  generalized: fc.boolean(),
});

/** A well-formed CRL (unsigned: the index reads, it does not verify) and what it says. */
const crl = fc
  .record({
    issuer: rdns.map(nameOf),
    thisUpdate: date,
    nextUpdate: fc.option(date, { nil: undefined }),
    entries: fc.array(entry, { maxLength: 12 }),
    listEmpty: fc.boolean(),
    crlNumber: fc.option(fc.uint8Array({ minLength: 1, maxLength: 8 }).map(integerContent), { nil: undefined }),
    signature: fc.uint8Array({ maxLength: 16 }),
  })
  .map((c) => {
    const algorithm = tlv(0x30, Buffer.concat([oidDer('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00])]));
    const revoked = c.entries.map((e) =>
      tlv(
        0x30,
        Buffer.concat([
          tlv(0x02, e.serial),
          e.generalized ? generalizedTime(e.revokedAt) : utcTime(e.revokedAt),
          e.reason === undefined ? Buffer.alloc(0) : tlv(0x30, extension('2.5.29.21', tlv(0x0a, [e.reason]))),
        ]),
      ),
    );
    const tbs = tlv(
      0x30,
      Buffer.concat([
        tlv(0x02, [1]),
        algorithm,
        c.issuer,
        utcTime(c.thisUpdate),
        c.nextUpdate ? utcTime(c.nextUpdate) : Buffer.alloc(0),
        revoked.length > 0 || c.listEmpty ? tlv(0x30, Buffer.concat(revoked)) : Buffer.alloc(0),
        c.crlNumber ? tlv(0xa0, tlv(0x30, extension('2.5.29.20', tlv(0x02, c.crlNumber)))) : Buffer.alloc(0),
      ]),
    );
    const der = tlv(0x30, Buffer.concat([tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), c.signature]))]));
    return { der, ...c };
  });

const hex = (content: Buffer) => normalizeSerial(content.toString('hex'));

/** Serial numbers to ask about: the ones the CRL was built with, and others. */
const probes = (serials: Buffer[], others: Uint8Array[]) => [...serials.map(hex), ...others.map((o) => hex(integerContent(o)))];

/** Whether `der` holds a DER INTEGER whose value is `serial` (normalized hex): what "the CRL lists it" can mean for damaged bytes. */
function listsInteger(der: Buffer, serial: string): boolean {
  const content = integerContent(Buffer.from(serial.length % 2 ? `0${serial}` : serial, 'hex'));
  for (let at = der.indexOf(content); at !== -1; at = der.indexOf(content, at + 1)) {
    // Some spelling of the INTEGER: tag, a length (short or long form), maybe leading zeros, then the content.
    for (let start = at - 1; start >= 1 && start >= at - 8; start--) {
      if (der[start - 1] !== 0x02) continue;
      const reader = outcome(() => new DerReader(der, start - 1).next(0x02));
      if ('value' in reader && reader.value.end === at + content.length && der.subarray(reader.value.contentStart, at).every((b) => b === 0)) return true;
    }
  }
  return false;
}

test('a well-formed CRL revokes exactly its serial numbers, each with its date and reason', () => {
  fc.assert(
    fc.property(crl, fc.array(fc.uint8Array({ minLength: 1, maxLength: 20 }), { maxLength: 4 }), (c, others) => {
      const index = parseCrl(c.der);
      const last = new Map(c.entries.map((e) => [hex(e.serial), e]));
      const first = new Map([...c.entries].reverse().map((e) => [hex(e.serial), e]));
      expect(index.revokedCount).toBe(last.size);
      expect(index.thisUpdate).toEqual(c.thisUpdate);
      expect(index.nextUpdate).toEqual(c.nextUpdate);
      for (const serial of probes([], others)) if (!last.has(serial)) expect(index.revocationOf(serial)).toBeUndefined();
      for (const [serial, e] of last) {
        const found = index.revocationOf(serial);
        // A serial listed twice: one of its entries answers (the index keeps the last offset).
        const expected = [e, first.get(serial)];
        expect(found?.serialNumber).toBe(serial);
        expect(expected.some((x) => x?.revokedAt.getTime() === found?.revokedAt.getTime() && (x?.reason === undefined ? found?.reason === undefined : found?.reason === REASONS[x.reason]))).toBe(true);
        expect(index.revokes(serial)).toBe(true);
      }
      if (c.crlNumber) expect(index.crlNumber).toBe(hex(c.crlNumber));
    }),
    fuzzed(300),
  );
});

test('any bytes, damaged CRLs: a CrlFormatError or a CRL, never another throw; revoked serials are ones the bytes list, none asn1-x509 finds is missed', () => {
  const bytes = fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ der: Buffer.from(b), serials: [] as Buffer[] })) },
    { weight: 6, arbitrary: fc.tuple(crl, fc.integer()).chain(([c]) => mutated(fc.constant(c.der)).map((der) => ({ der, serials: c.entries.map((e) => e.serial) }))) },
  );
  fc.assert(
    fc.property(bytes, fc.array(fc.uint8Array({ minLength: 1, maxLength: 3 }), { maxLength: 3 }), ({ der, serials }, others) => {
      const before = Buffer.from(der);
      const parsed = outcome(() => parseCrl(der));
      expect(der.equals(before)).toBe(true);
      if ('error' in parsed) {
        expect(parsed.error).toBeInstanceOf(CrlFormatError);
        return;
      }
      const index = parsed.value;
      const revoked = probes(serials, others).filter((serial) => index.revokes(serial));
      for (const serial of revoked) {
        expect(listsInteger(der, serial)).toBe(true);
        const entry = outcome(() => index.revocationOf(serial));
        if ('error' in entry) expect(entry.error).toBeInstanceOf(CrlFormatError);
        else expect(entry.value?.serialNumber).toBe(serial);
      }
      // Where the general decoder reads the bytes too, every serial number it finds revoked is revoked here
      // (not the converse: asn1-schema drops an optional field it cannot match, revokedCertificates included).
      const theirs = outcome(() => AsnConvert.parse(der, CertificateList));
      if ('value' in theirs) {
        for (const r of theirs.value.tbsCertList.revokedCertificates ?? []) expect(index.revokes(hex(Buffer.from(r.userCertificate)))).toBe(true);
      }
    }),
    fuzzed(1500),
  );
});

test('a CRL of 100,000 entries still indexes within the walker`s budget, and deep or long-form damage finishes fast', () => {
  // Entries of one size (a 4-octet serial n + 1, a fixed date), written into one buffer.
  const template = tlv(0x30, Buffer.concat([tlv(0x02, [0, 0, 0, 1]), utcTime(new Date(Date.UTC(2026, 0, 1)))]));
  const list = Buffer.alloc(template.length * 100_000);
  for (let n = 0; n < 100_000; n++) {
    template.copy(list, n * template.length);
    list.writeUInt32BE(n + 1, n * template.length + 4);
  }
  const entries = [list];
  const algorithm = tlv(0x30, Buffer.concat([oidDer('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00])]));
  const tbs = tlv(0x30, Buffer.concat([tlv(0x02, [1]), algorithm, nameOf([[['2.5.4.3', tlv(0x0c, Buffer.from('CA'))]]]), utcTime(new Date(Date.UTC(2026, 0, 1))), tlv(0x30, Buffer.concat(entries))]));
  const der = tlv(0x30, Buffer.concat([tbs, algorithm, tlv(0x03, [0, 1, 2])]));
  const started = process.hrtime.bigint();
  const index = parseCrl(der);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  expect(index.revokedCount).toBe(100_000);
  expect(index.revokes('186a0')).toBe(true);
  expect(index.revokes('186a1')).toBe(false);
  expect(ms).toBeLessThan(5000); // tens of milliseconds unloaded; generous for a loaded machine
  // Lengths that claim gigabytes, and a nest of 10,000 SEQUENCEs: refused at once, no recursion, no allocation.
  for (const bad of [Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30]), Buffer.concat([Buffer.alloc(10_000, 0x30).map((b, i) => (i % 2 ? 0x80 : b)), Buffer.alloc(4)])]) {
    const result = outcome(() => parseCrl(bad));
    expect('error' in result && result.error instanceof CrlFormatError).toBe(true);
  }
});
