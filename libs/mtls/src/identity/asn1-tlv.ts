import { BaseBlock, Primitive } from 'asn1js';
import { DnFormatError } from './dn-format.error';

/** One BER/DER element of a Name: its tag and its exact bytes (an attribute value, see `rawNameAttributes`). */
export interface Tlv {
  /** asn1js tag class: 1 universal, 2 application, 3 context-specific, 4 private. */
  tagClass: number;
  tagNumber: number;
  constructed: boolean;
  /** The whole element (identifier, length, content). */
  der: Uint8Array;
  /** The content octets of a primitive element; undefined when constructed. */
  content?: Uint8Array;
  /** Length of the identifier and length octets (where the content starts in `der`). */
  headerLength: number;
  /** True for BER's indefinite length (content closed by end-of-contents octets). */
  indefinite: boolean;
}

/**
 * One element as OpenSSL's `ASN1_get_object` reads it, its identifier and
 * length octets decoded by asn1js. asn1js is more lenient than OpenSSL (a
 * child may run past its parent, a context-specific tag may stand in for a
 * SEQUENCE) and keeps a constructed string (a constructed UTF8String, say)
 * as one opaque value; where OpenSSL's reading matters (the shape of a Name,
 * the contents of a constructed string), the walks below go element by
 * element: the octets are asn1js's to decode, the rules OpenSSL's.
 */
export interface BerHeader {
  /** asn1js tag class: 1 universal, 2 application, 3 context-specific, 4 private. */
  tagClass: number;
  tagNumber: number;
  constructed: boolean;
  indefinite: boolean;
  /** Where the content starts. */
  contentStart: number;
  /** Where a definite-length content ends; for an indefinite length, the end of what encloses it. */
  contentEnd: number;
}

const CONSTRUCTED = 0x20;
/** OpenSSL reads tag numbers up to INT_MAX >> 7: five octets after the first. */
const MAX_IDENTIFIER_OCTETS = 6;

function invalid(what: string): DnFormatError {
  return new DnFormatError(`invalid constructed value: ${what}`);
}

/**
 * The header of the element at `offset`, which must lie within `end`.
 * `room`: where the input OpenSSL reads ends (the enclosing element's end,
 * or further when more follows); OpenSSL refuses a long-form length with
 * nothing after its octets there (`0c 81 00` ending a SEQUENCE).
 */
export function readHeader(bytes: Uint8Array, offset: number, end: number, room = end): BerHeader {
  const block = new BaseBlock();
  // asn1js refuses a constructed NULL, INTEGER, ... outright; OpenSSL reads any header: decode the tag with the bit cleared.
  const identifier = Uint8Array.from(bytes.subarray(offset, Math.min(end, offset + MAX_IDENTIFIER_OCTETS))); // a copy: a Buffer's slice would share
  identifier[0] &= ~CONSTRUCTED;
  const identifierLength = block.idBlock.fromBER(identifier, 0, identifier.length);
  if (identifierLength === -1) throw invalid(block.idBlock.error);
  const afterIdentifier = offset + identifierLength;
  const contentStart = block.lenBlock.fromBER(bytes, afterIdentifier, end - afterIdentifier);
  if (contentStart === -1) throw invalid(block.lenBlock.error);
  const constructed = (bytes[offset] & CONSTRUCTED) !== 0;
  const indefinite = block.lenBlock.isIndefiniteForm;
  if (indefinite && !constructed) throw invalid('indefinite length of a primitive element');
  if (block.lenBlock.longFormUsed && contentStart >= room) throw invalid('long-form length with nothing after it');
  const contentEnd = indefinite ? end : contentStart + block.lenBlock.length;
  if (contentEnd > end) throw invalid(`length ${block.lenBlock.length} runs past its container`);
  return { tagClass: block.idBlock.tagClass, tagNumber: block.idBlock.tagNumber, constructed, indefinite, contentStart, contentEnd };
}

/** True when end-of-contents octets (`00 00`) start at `offset`. */
export function isEndOfContents(bytes: Uint8Array, offset: number, end: number): boolean {
  return end - offset >= 2 && bytes[offset] === 0 && bytes[offset + 1] === 0;
}

/**
 * Where the element with `header` ends (past its end-of-contents octets for
 * an indefinite length: OpenSSL's `asn1_find_end`, without recursion).
 */
export function elementEnd(bytes: Uint8Array, header: BerHeader): number {
  if (!header.indefinite) return header.contentEnd;
  const limit = header.contentEnd;
  let open = 1;
  let at = header.contentStart;
  while (open > 0) {
    if (at >= limit) throw invalid('missing end-of-contents');
    if (isEndOfContents(bytes, at, limit)) {
      open--;
      at += 2;
      continue;
    }
    const inner = readHeader(bytes, at, limit);
    if (inner.indefinite) open++;
    at = inner.indefinite ? inner.contentStart : inner.contentEnd;
  }
  return at;
}

/** OpenSSL's limit for nested constructed strings (`ASN1_MAX_STRING_NEST`). */
const MAX_STRING_NEST = 5;

/**
 * OpenSSL's `asn1_collect`: the contents of the primitive elements from
 * `start` on, in order, nested constructed ones followed (at most
 * {@link MAX_STRING_NEST} deep, any tag); an indefinite length ends at its
 * end-of-contents octets. Returns where it stopped.
 */
function collect(bytes: Uint8Array, start: number, end: number, indefinite: boolean, depth: number, out: Uint8Array[]): number {
  let offset = start;
  while (offset < end) {
    if (isEndOfContents(bytes, offset, end)) {
      if (!indefinite) throw invalid('end-of-contents inside a definite length');
      return offset + 2;
    }
    const header = readHeader(bytes, offset, end);
    if (header.constructed) {
      if (depth >= MAX_STRING_NEST) throw new DnFormatError('constructed string nested too deeply');
      offset = collect(bytes, header.contentStart, header.contentEnd, header.indefinite, depth + 1, out);
    } else {
      out.push(bytes.subarray(header.contentStart, header.contentEnd));
      offset = header.contentEnd;
    }
  }
  if (indefinite) throw invalid('missing end-of-contents');
  return offset;
}

/**
 * The content octets of a string-like element, as OpenSSL's `asn1_collect`
 * gathers them: a primitive element's content, or the concatenated contents
 * of all primitive elements nested in a constructed one.
 */
export function collectContent(tlv: Tlv): Uint8Array {
  if (tlv.content) return tlv.content;
  const { der } = tlv;
  const header = readHeader(der, 0, der.length);
  const parts: Uint8Array[] = [];
  const end = collect(der, header.contentStart, header.contentEnd, header.indefinite, 0, parts);
  if (end !== der.length) throw invalid('data after the value');
  return Buffer.concat(parts);
}

/** DER of a primitive universal element with the given tag and content, encoded by asn1js. */
export function encodePrimitive(tagNumber: number, content: Uint8Array): Uint8Array {
  return new Uint8Array(new Primitive({ idBlock: { tagClass: 1, tagNumber }, valueHex: content }).toBER());
}
