import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * IP addresses as bytes, so that every spelling of one address compares
 * equal: `::ffff:127.0.0.1` (what a dual-stack server sees from an IPv4
 * peer), `::ffff:7f00:1` and `127.0.0.1` are one address; IPv6 in any case
 * and any compression is one address.
 *
 * Which texts are addresses is Node's `net.isIP` (IPv4 dotted decimal
 * without leading zeros, so no octal `010.0.0.1`, hex `0x7f.0.0.1` or short
 * `127.1`; IPv6 with at most an embedded dotted IPv4 at its end); the bytes,
 * the canonical text and CIDR arithmetic are ipaddr.js's. Zone IDs are
 * dropped from peer addresses and refused in rules, not guessed at.
 */

/** 4 bytes (IPv4, also for IPv4-mapped IPv6) or 16 bytes (IPv6). */
export type IpBytes = Uint8Array;

/** An address block: `10.0.0.0/8`, `2001:db8::/32`, or one address (a /32 or /128). */
export interface IpBlock {
  bytes: IpBytes;
  prefix: number;
}

/** `::a.b.c.d`: IPv4-compatible IPv6 (deprecated), which ipaddr.js reads as IPv4-mapped `::ffff:a.b.c.d`; it is an IPv6 address of its own. */
const IPV4_COMPATIBLE = /^::(\d+\.\d+\.\d+\.\d+)$/;

/** The address of `text` as ipaddr.js holds it, IPv4-mapped IPv6 kept as IPv6; undefined when `net.isIP` says it is none (or it has a zone). */
function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (text.includes('%') || isIP(text) === 0) return undefined;
  const compatible = IPV4_COMPATIBLE.exec(text);
  if (compatible) return ipaddr.fromByteArray([...new Array<number>(12).fill(0), ...ipaddr.IPv4.parse(compatible[1]).toByteArray()]);
  return ipaddr.parse(text);
}

/**
 * The bytes of an IPv4 or IPv6 address; IPv4-mapped IPv6 addresses
 * (`::ffff:a.b.c.d`) become their IPv4 address. A zone ID (`fe80::1%eth0`)
 * is dropped when `allowZone` (peer addresses), refused otherwise.
 * Undefined when `text` is not an address.
 */
export function parseIp(text: string, { allowZone = false } = {}): IpBytes | undefined {
  if (typeof text !== 'string') return undefined;
  let value = text.trim();
  const zone = value.indexOf('%');
  if (zone >= 0) {
    if (!allowZone) return undefined;
    value = value.slice(0, zone);
  }
  const address = parseAddress(value);
  if (!address) return undefined;
  const plain = address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
  return Uint8Array.from(plain.toByteArray());
}

/** An address in its one canonical text: IPv4 dotted, IPv6 in RFC 5952 form; IPv4-mapped as IPv4. */
export function formatIp(bytes: IpBytes): string {
  return ipaddr.fromByteArray(Array.from(bytes)).toString();
}

/** The canonical text of an address (see {@link formatIp}); undefined when `text` is not one. */
export function normalizeIp(text: string, options: { allowZone?: boolean } = {}): string | undefined {
  const bytes = parseIp(text, options);
  return bytes ? formatIp(bytes) : undefined;
}

/**
 * An address or CIDR block of a rule (`10.1.2.3`, `10.0.0.0/8`, `2001:db8::/32`,
 * `::ffff:10.0.0.0/104`, which is `10.0.0.0/8`); throws a message naming the
 * value when it is neither, or when the block has bits set past its prefix.
 */
export function parseIpBlock(text: string): IpBlock {
  const [addressText, prefixText, extra] = String(text).split('/');
  if (extra !== undefined) throw new TypeError(`"${text}" is not an IP address or CIDR block`);
  const address = parseAddress(addressText);
  if (!address) throw new TypeError(`"${text}" is not an IP address or CIDR block (IPv4 dotted without leading zeros, or IPv6)`);
  const bits = address.kind() === 'ipv4' ? 32 : 128;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) throw new TypeError(`"${text}": the prefix length must be 0 to ${bits}`);
    prefix = Number(prefixText);
  }
  let block: ipaddr.IPv4 | ipaddr.IPv6 = address;
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    if (prefix < 96) throw new TypeError(`"${text}": an IPv4-mapped block needs a prefix of at least 96`);
    block = (address as ipaddr.IPv6).toIPv4Address();
    prefix -= 96;
  }
  const network = networkOf(block, prefix);
  if (network.toString() !== block.toString()) throw new TypeError(`"${text}": bits are set past the /${prefixText} prefix (did you mean ${network.toString()}/${prefixText}?)`);
  return { bytes: Uint8Array.from(block.toByteArray()), prefix };
}

/** The first address of the `/prefix` block holding `address`. */
function networkOf(address: ipaddr.IPv4 | ipaddr.IPv6, prefix: number): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${prefix}`) : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${prefix}`);
}

/** True when `address` lies in `block` (both already parsed; IPv4 never matches an IPv6 block or the reverse). */
export function blockContains(block: IpBlock, address: IpBytes): boolean {
  if (block.bytes.length !== address.length) return false;
  return ipaddr.fromByteArray(Array.from(address)).match(ipaddr.fromByteArray(Array.from(block.bytes)), block.prefix);
}

/** `10.0.0.0/8`, or the address alone for a single-address block. */
export function formatIpBlock(block: IpBlock): string {
  return block.prefix === block.bytes.length * 8 ? formatIp(block.bytes) : `${formatIp(block.bytes)}/${block.prefix}`;
}
