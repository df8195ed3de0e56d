import { CrlFormatError } from './crl-format.error';

/** One DER element located in a buffer: its identifier byte and where its header and content are. */
export interface DerElement {
  /** The identifier octet (class, constructed bit, tag number below 31). */
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the element. */
  end: number;
}

/** Identifier octets nest-mtls reads in CRLs. */
export const DER = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  /** `[0]` constructed, context-specific (e.g. a CRL's extensions). */
  CONTEXT_0: 0xa0,
} as const;

/**
 * Walks the elements of a DER buffer without decoding them: the locator
 * the CRL index uses to find revoked serial numbers in a CRL of any size.
 * A full ASN.1 decoder builds a tree of every node (asn1js, under
 * @peculiar/x509, also stops at 10,000 nodes, about 2,000 CRL entries);
 * this only follows definite lengths, and the structures it finds are
 * decoded with @peculiar/asn1-schema. Every length is checked against its
 * parent; indefinite lengths (not DER), high tag numbers and lengths over
 * 4 octets are errors (CrlFormatError).
 */
export class DerReader {
  private offset: number;

  constructor(
    readonly buffer: Buffer,
    start = 0,
    private readonly limit = buffer.length,
  ) {
    this.offset = start;
  }

  /** A reader over the content of `element`. */
  static within(buffer: Buffer, element: DerElement): DerReader {
    return new DerReader(buffer, element.contentStart, element.end);
  }

  get done(): boolean {
    return this.offset >= this.limit;
  }

  /** The identifier octet of the next element, or undefined at the end. */
  peekTag(): number | undefined {
    return this.done ? undefined : this.buffer[this.offset];
  }

  /** Reads the next element and moves past it; `expected` checks its identifier octet. */
  next(expected?: number, what = 'element'): DerElement {
    const { buffer, limit } = this;
    const start = this.offset;
    if (start + 2 > limit) throw new CrlFormatError(`${what}: truncated`);
    const tag = buffer[start];
    if ((tag & 0x1f) === 0x1f) throw new CrlFormatError(`${what}: high tag numbers are not expected here`);
    if (expected !== undefined && tag !== expected) throw new CrlFormatError(`${what}: expected tag 0x${expected.toString(16)}, found 0x${tag.toString(16)}`);
    let length = buffer[start + 1];
    let contentStart = start + 2;
    if (length & 0x80) {
      const octets = length & 0x7f;
      if (octets === 0) throw new CrlFormatError(`${what}: indefinite length (not DER)`);
      if (octets > 4) throw new CrlFormatError(`${what}: length of more than 4 octets`);
      if (contentStart + octets > limit) throw new CrlFormatError(`${what}: truncated length`);
      length = 0;
      for (let i = 0; i < octets; i++) length = length * 256 + buffer[contentStart + i];
      contentStart += octets;
    }
    const end = contentStart + length;
    if (end > limit) throw new CrlFormatError(`${what}: length ${length} runs past its container`);
    this.offset = end;
    return { tag, start, contentStart, end };
  }

  /** The next element when its identifier octet is `tag`; otherwise nothing is read. */
  optional(tag: number, what?: string): DerElement | undefined {
    return this.peekTag() === tag ? this.next(tag, what) : undefined;
  }
}

/** The whole element (header and content). */
export function derBytes(buffer: Buffer, element: DerElement): Buffer {
  return buffer.subarray(element.start, element.end);
}

/** The content octets. */
export function derContent(buffer: Buffer, element: DerElement): Buffer {
  return buffer.subarray(element.contentStart, element.end);
}
