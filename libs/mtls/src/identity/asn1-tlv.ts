import type { IAsnConverter } from '@peculiar/asn1-schema';
import { asn1, util } from 'node-forge';
import { DnFormatError } from './dn-format.error';

/** One BER/DER element: its tag and its bytes, as decoded by asn1js (through @peculiar/asn1-schema). */
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

/** The parts of an asn1js block this module reads. */
interface Asn1jsBlock {
  idBlock: { tagClass: number; tagNumber: number; isConstructed: boolean; blockLength: number };
  lenBlock: { blockLength: number; isIndefiniteForm: boolean };
  valueBeforeDecodeView: Uint8Array;
}

/** asn1-schema converter for `ANY`: the element's tag and raw bytes (decoding only). */
export const TlvConverter: IAsnConverter<Tlv, any> = {
  fromASN: (block: Asn1jsBlock): Tlv => {
    const der = new Uint8Array(block.valueBeforeDecodeView);
    const constructed = block.idBlock.isConstructed;
    const headerLength = block.idBlock.blockLength + block.lenBlock.blockLength;
    return {
      tagClass: block.idBlock.tagClass,
      tagNumber: block.idBlock.tagNumber,
      constructed,
      der,
      content: constructed ? undefined : der.subarray(headerLength),
      headerLength,
      indefinite: block.lenBlock.isIndefiniteForm,
    };
  },
  toASN: () => {
    throw new Error('TlvConverter is read-only');
  },
};

/** Options of forge's `asn1.fromDer` (its typings only declare the old boolean form). */
interface FromDerOptions {
  strict: boolean;
  parseAllBytes: boolean;
  decodeBitStrings: boolean;
}
const fromDer = asn1.fromDer as unknown as (bytes: util.ByteBuffer, options: FromDerOptions) => asn1.Asn1;

/** OpenSSL's limit for nested constructed strings (`ASN1_MAX_STRING_NEST`). */
const MAX_STRING_NEST = 5;

/** Content octets of a forge node: forge hands BMPString content over as UTF-16 code units. */
function forgeContent(node: asn1.Asn1, depth: number): Uint8Array {
  if (typeof node.value !== 'string') {
    if (depth >= MAX_STRING_NEST) throw new DnFormatError('constructed string nested too deeply');
    return Buffer.concat(node.value.map((child) => forgeContent(child, depth + 1)));
  }
  if (node.type === asn1.Type.BMPSTRING) return Buffer.from(node.value, 'utf16le').swap16();
  return Buffer.from(node.value, 'binary');
}

/**
 * The content octets of a string-like element, as OpenSSL's `asn1_collect`
 * gathers them: a primitive element's content, or the concatenated contents
 * of all primitive elements nested in a constructed one (decoded by node-forge).
 */
export function collectContent(tlv: Tlv): Uint8Array {
  if (tlv.content) return tlv.content;
  let node: asn1.Asn1;
  try {
    node = fromDer(util.createBuffer(Buffer.from(tlv.der).toString('binary')), {
      strict: true,
      parseAllBytes: true,
      decodeBitStrings: false,
    });
  } catch (error) {
    throw new DnFormatError(`invalid constructed value: ${(error as Error).message}`);
  }
  return forgeContent(node, 0);
}

/** DER of a primitive universal element with the given tag and content, encoded by node-forge. */
export function encodePrimitive(tagNumber: number, content: Uint8Array): Uint8Array {
  // forge takes BMPString content as UTF-16 code units (and writes them as 2 bytes each).
  const value =
    tagNumber === Number(asn1.Type.BMPSTRING)
      ? Buffer.from(content).swap16().toString('utf16le')
      : Buffer.from(content).toString('binary');
  const node = asn1.create(asn1.Class.UNIVERSAL, tagNumber, false, value);
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

/**
 * The element with definite lengths throughout, as Java's DerIndefLenConverter
 * leaves a BER value with indefinite lengths (re-encoded by node-forge).
 */
export function definiteDer(tlv: Tlv): Uint8Array {
  let node: asn1.Asn1;
  try {
    node = fromDer(util.createBuffer(Buffer.from(tlv.der).toString('binary')), { strict: true, parseAllBytes: true, decodeBitStrings: false });
  } catch (error) {
    throw new DnFormatError(`invalid constructed value: ${(error as Error).message}`);
  }
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}
