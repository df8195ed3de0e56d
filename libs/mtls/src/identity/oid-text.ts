import { fromBER, ObjectIdentifier } from 'asn1js';
import { DnFormatError } from './dn-format.error';

/** The part of an asn1js ObjectIdentifier this converter reads: its sub-identifiers as 7-bit groups. */
interface OidBlock {
  valueBlock: { value: { valueHexView: Uint8Array }[] };
}

/**
 * Dotted text of an OBJECT IDENTIFIER decoded by asn1js, with arcs of any size
 * (asn1js' own `toString` gives up beyond 2^53, e.g. on `2.25.<UUID>` OIDs).
 * Rejects non-minimal sub-identifiers, as OpenSSL does.
 */
function dottedOid(block: OidBlock): string {
  const sids = block.valueBlock.value;
  if (sids.length === 0) throw new DnFormatError('empty OBJECT IDENTIFIER');
  const arcs = sids.map(({ valueHexView: groups }) => {
    if (groups.length > 1 && groups[0] === 0) throw new DnFormatError('OBJECT IDENTIFIER is not minimally encoded');
    return groups.reduce((value, group) => value * 128n + BigInt(group), 0n);
  });
  const first = arcs[0];
  const head = first < 40n ? `0.${first}` : first < 80n ? `1.${first - 40n}` : `2.${first - 80n}`;
  return [head, ...arcs.slice(1).map(String)].join('.');
}

/** The dotted text of the OBJECT IDENTIFIER element `der` (identifier, length, content), decoded by asn1js. */
export function oidText(der: Uint8Array): string {
  const parsed = fromBER(der);
  if (parsed.offset !== der.byteLength || !(parsed.result instanceof ObjectIdentifier)) {
    throw new DnFormatError(`invalid OBJECT IDENTIFIER${parsed.result.error ? `: ${parsed.result.error}` : ''}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- asn1js types the block loosely
  return dottedOid(parsed.result as unknown as OidBlock);
}
