/**
 * IP addresses as bytes, so that every spelling of one address compares
 * equal: `::ffff:127.0.0.1` (what a dual-stack server sees from an IPv4
 * peer), `::ffff:7f00:1` and `127.0.0.1` are one address; IPv6 in any case
 * and any compression is one address. Parsed by hand: leading zeros in IPv4
 * (octal to some parsers) and zone IDs in rules are refused, not guessed at.
 */

/** 4 bytes (IPv4, also for IPv4-mapped IPv6) or 16 bytes (IPv6). */
export type IpBytes = Uint8Array;

/** An address block: `10.0.0.0/8`, `2001:db8::/32`, or one address (a /32 or /128). */
export interface IpBlock {
  bytes: IpBytes;
  prefix: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function parseIpv4(text: string): IpBytes | undefined {
  return IPV4.test(text) ? Uint8Array.from(text.split('.').map(Number)) : undefined;
}

function parseIpv6(text: string): IpBytes | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(piece)) return undefined;
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  // An embedded IPv4 may only end the address.
  if (halves.length === 2 && halves[0].includes('.')) return undefined;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

function isV4Mapped(bytes: IpBytes): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
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
  const bytes = value.includes(':') ? parseIpv6(value) : parseIpv4(value);
  if (!bytes) return undefined;
  return isV4Mapped(bytes) ? bytes.slice(12) : bytes;
}

/** An address in its one canonical text: IPv4 dotted, IPv6 in RFC 5952 form; IPv4-mapped as IPv4. */
export function formatIp(bytes: IpBytes): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // RFC 5952: the longest run of two or more zero groups (the first, on a tie) becomes "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
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
  const [address, prefixText, extra] = String(text).split('/');
  if (extra !== undefined) throw new TypeError(`"${text}" is not an IP address or CIDR block`);
  const raw = address.includes(':') ? parseIpv6(address) : parseIpv4(address);
  if (!raw) throw new TypeError(`"${text}" is not an IP address or CIDR block (IPv4 dotted without leading zeros, or IPv6)`);
  let prefix = raw.length * 8;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > raw.length * 8) {
      throw new TypeError(`"${text}": the prefix length must be 0 to ${raw.length * 8}`);
    }
    prefix = Number(prefixText);
  }
  let bytes = raw;
  if (isV4Mapped(raw)) {
    if (prefix < 96) throw new TypeError(`"${text}": an IPv4-mapped block needs a prefix of at least 96`);
    bytes = raw.slice(12);
    prefix -= 96;
  }
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    if (bytes[bit >> 3] & (0x80 >> (bit & 7))) throw new TypeError(`"${text}": bits are set past the /${prefixText} prefix (did you mean ${formatIp(mask(bytes, prefix))}/${prefixText}?)`);
  }
  return { bytes, prefix };
}

function mask(bytes: IpBytes, prefix: number): IpBytes {
  const out = bytes.slice();
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return out;
}

/** True when `address` lies in `block` (both already parsed; IPv4 never matches an IPv6 block or the reverse). */
export function blockContains(block: IpBlock, address: IpBytes): boolean {
  if (block.bytes.length !== address.length) return false;
  const whole = block.prefix >> 3;
  for (let i = 0; i < whole; i++) if (block.bytes[i] !== address[i]) return false;
  const rest = block.prefix & 7;
  if (rest === 0) return true;
  const m = (0xff << (8 - rest)) & 0xff;
  return (block.bytes[whole] & m) === (address[whole] & m);
}

/** `10.0.0.0/8`, or the address alone for a single-address block. */
export function formatIpBlock(block: IpBlock): string {
  return block.prefix === block.bytes.length * 8 ? formatIp(block.bytes) : `${formatIp(block.bytes)}/${block.prefix}`;
}
