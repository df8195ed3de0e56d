import type { Tlv } from './asn1-tlv';
import { DnFormatError } from './dn-format.error';

/**
 * What `DerValue.toByteArray()` gives in Java 17 for an attribute value: the
 * identifier octet, the length in DER form, and the content octets as Java
 * holds them. The `jdk` DN form prints every value that is not a string as
 * `#` + the hex of these bytes.
 *
 * A definite length is kept as it is (only written in DER form). A BER
 * indefinite length is first rewritten by `DerIndefLenConverter`, ported
 * here byte for byte with its quirks, since the output must be Java's: it
 * walks the elements of indefinite-length constructions only, writes each
 * length it walks over in DER form, drops end-of-contents octets, and
 * computes each indefinite element's new length from the original octets;
 * where a long-form length was shortened, the content comes out that much
 * short and Java fills the gap with zero octets
 * (`2c 80 0c 81 01 61 00 00` reads as `2c 04 0c 01 61 00`).
 * Checked against Java 17 by test/unit/jdk-dn.spec.ts and the DN fuzz tests.
 */
export function javaDerValue(value: Tlv): Uint8Array {
  const bytes = value.indefinite ? convertIndefiniteLengths(value.der) : value.der;
  const tag = bytes[0];
  if ((tag & 0x1f) === 0x1f) throw new DnFormatError('Java reads no tag number over 30');
  let pos = 1;
  let lengthByte = bytes[pos++];
  let length: number;
  if (lengthByte === 0x80) throw new DnFormatError('indefinite length conversion failed');
  if ((lengthByte & 0x80) === 0) {
    length = lengthByte;
  } else {
    lengthByte &= 0x7f;
    if (lengthByte > 4 || bytes.length < 2 + lengthByte) throw new DnFormatError('invalid length octets');
    length = 0;
    for (let i = 0; i < lengthByte; i++) length = ((length << 8) + bytes[pos++]) | 0;
    if (length < 0) throw new DnFormatError('invalid length octets');
  }
  if (bytes.length - length < pos) throw new DnFormatError('not enough content');
  return Buffer.concat([Uint8Array.of(tag), derLength(length), bytes.subarray(pos, pos + length)]);
}

/** DER length octets (shortest form), as Java's `DerOutputStream.putLength` writes them. */
function derLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Uint8Array.from([0x80 | bytes.length, ...bytes]);
}

function refused(what: string): DnFormatError {
  return new DnFormatError(`Java cannot read the indefinite-length value: ${what}`);
}

/** `DerIndefLenConverter.convertBytes` of Java 17 (`data` starts with the identifier octet and 0x80). */
function convertIndefiniteLengths(data: Uint8Array): Uint8Array {
  const isEndOfContents = (pos: number) => data[pos] === 0 && data[pos + 1] === 0;
  /** Per indefinite length met: its position (unresolved), then its new length octets. */
  const lengths: Array<number | Uint8Array> = [];
  let unresolved = 0;
  let totalLengthOctets = 0;
  let dataSize = data.length;
  let dataPos = 0;

  // First pass: find every indefinite length and the end-of-contents that closes it.
  while (dataPos < dataSize) {
    if (dataPos + 2 > dataSize) throw refused('truncated');
    if (isEndOfContents(dataPos)) {
      let encapsulated = 0;
      let index = lengths.length - 1;
      for (; index >= 0; index--) {
        const entry = lengths[index];
        if (typeof entry === 'number') break;
        encapsulated += entry.length - 3;
      }
      if (index < 0) throw refused('end-of-contents without an indefinite length');
      const sectionLength = dataPos - (lengths[index] as number) + encapsulated;
      const octets = derLength(sectionLength);
      lengths[index] = octets;
      unresolved--;
      totalLengthOctets += octets.length - 3;
    }
    dataPos++; // the tag: one octet, as Java reads it
    let length = 0;
    if (dataPos < dataSize) {
      const lengthByte = data[dataPos++];
      if (lengthByte === 0x80) {
        lengths.push(dataPos);
        unresolved++;
      } else if (lengthByte & 0x80) {
        const count = lengthByte & 0x7f;
        if (count > 4) throw refused('too much data');
        if (dataSize - dataPos < count + 1) throw refused('not enough data');
        for (let i = 0; i < count; i++) length = ((length << 8) + data[dataPos++]) | 0;
        if (length < 0) throw refused('invalid length bytes');
      } else {
        length = lengthByte;
      }
    }
    dataPos = (dataPos + length) | 0;
    if (dataPos < 0) throw refused('data overflow');
    if (unresolved === 0) break;
  }
  if (unresolved !== 0) throw refused('not all indefinite lengths resolved');
  const unused = dataSize - dataPos;
  dataSize = dataPos;

  // Second pass: write the definite lengths (Java's array starts zero-filled).
  const out = new Uint8Array(dataSize + totalLengthOctets + unused);
  let outPos = 0;
  let index = 0;
  const put = (byte: number) => {
    if (outPos >= out.length) throw refused('conversion overflows');
    out[outPos++] = byte;
  };
  dataPos = 0;
  while (dataPos < dataSize) {
    // writeTag: skip end-of-contents octets, copy one tag octet.
    while (dataPos < dataSize) {
      if (dataPos + 1 >= data.length) throw refused('truncated');
      if (isEndOfContents(dataPos)) {
        dataPos += 2;
      } else {
        put(data[dataPos++]);
        break;
      }
    }
    // writeLengthAndValue
    if (dataPos === dataSize) continue;
    const lengthByte = data[dataPos++];
    if (lengthByte === 0x80) {
      const octets = lengths[index++];
      if (!(octets instanceof Uint8Array)) throw refused('conversion failed');
      octets.forEach(put);
      continue;
    }
    let length = 0;
    if (lengthByte & 0x80) {
      const count = lengthByte & 0x7f;
      for (let i = 0; i < count; i++) length = ((length << 8) + (data[dataPos++] ?? refusedByte())) | 0;
      if (length < 0) throw refused('invalid length bytes');
    } else {
      length = lengthByte;
    }
    derLength(length).forEach(put);
    if (dataPos + length > data.length || outPos + length > out.length) throw refused('value runs past the data');
    out.set(data.subarray(dataPos, dataPos + length), outPos);
    dataPos += length;
    outPos += length;
  }
  out.set(data.subarray(dataSize, dataSize + unused), dataSize + totalLengthOctets);
  return out;
}

function refusedByte(): never {
  throw refused('truncated length');
}
