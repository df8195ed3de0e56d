import { BlockList, isIP } from 'node:net';
import fc from 'fast-check';
import { blockContains, formatIp, normalizeIp, parseIp, parseIpBlock } from 'nest-mtls/internal';
import { fuzzed } from '../../support/fuzz';

/**
 * IP addresses and CIDR blocks (ipaddr.js behind identity/ip-address.ts)
 * against Node itself: which texts are addresses (`net.isIP`), and which
 * addresses a block holds (`net.BlockList`, IPv4-mapped IPv6 on either
 * side, on Node 20 as on 22 and 24).
 */
const octet = fc.integer({ min: 0, max: 255 });
const v4 = fc.tuple(octet, octet, octet, octet);
const group = fc.integer({ min: 0, max: 0xffff });
const v6 = fc.array(fc.oneof(group, fc.constant(0)), { minLength: 8, maxLength: 8 });
const v4Text = v4.map((o) => o.join('.'));
/** IPv6 written out with every group, then compressed or cased at random (what `net.isIP` must also take). */
const v6Text = fc.tuple(v6, fc.boolean(), fc.boolean()).map(([groups, compress, upper]) => {
  let text = groups.map((g) => g.toString(16)).join(':');
  if (compress) text = text.replace(/(^|:)0(:0)+(:|$)/, '::');
  return upper ? text.toUpperCase() : text;
});
const mappedText = v4.map((o) => `::ffff:${o.join('.')}`);
/** The odd spellings of IPv4 some parsers take: leading zeros (octal), hex, fewer parts, one number. */
const oddV4 = fc.oneof(
  v4.map(([a, b, c, d]) => `0${a}.${b}.${c}.${d}`),
  v4.map(([a, b, c, d]) => `0x${a.toString(16)}.${b}.${c}.${d}`),
  v4.map(([a, , , d]) => `${a}.${d}`),
  v4.map(([a, b, , d]) => `${a}.${b}.${d}`),
  v4.map((o) => String(o.reduce((n, x) => n * 256 + x, 0))),
);
const anyText = fc.oneof(
  v4Text,
  v6Text,
  mappedText,
  oddV4,
  oddV4.map((t) => `::ffff:${t}`),
  fc.tuple(v6Text, fc.stringMatching(/^[a-z0-9]{1,6}$/)).map(([a, zone]) => `${a}%${zone}`),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFx:.% '.split('')), maxLength: 42 }),
);

test('an address is what net.isIP calls one (zones only where allowed); odd IPv4 spellings never are', () => {
  fc.assert(
    fc.property(anyText, (text) => {
      const zone = text.indexOf('%');
      const bare = (zone >= 0 ? text.slice(0, zone) : text).trim();
      const isAddress = isIP(bare) !== 0;
      expect(normalizeIp(text, { allowZone: true }) !== undefined).toBe(isAddress);
      expect(normalizeIp(text) !== undefined).toBe(isAddress && zone < 0);
    }),
    fuzzed(1500),
  );
  fc.assert(
    fc.property(oddV4, (text) => {
      expect(normalizeIp(text)).toBeUndefined();
      expect(normalizeIp(`::ffff:${text}`)).toBeUndefined();
    }),
    fuzzed(500),
  );
});

test('every spelling of an address prints the same, as an address Node reads back; IPv4-mapped prints as IPv4', () => {
  fc.assert(
    fc.property(v6, fc.boolean(), (groups, upper) => {
      const full = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
      const canonical = normalizeIp(upper ? full.toUpperCase() : full) as string;
      expect(isIP(canonical)).not.toBe(0);
      expect(normalizeIp(canonical)).toBe(canonical);
      expect(canonical).toBe(canonical.toLowerCase());
      const mapped = groups.slice(0, 6).join(',') === '0,0,0,0,0,65535';
      expect(isIP(canonical)).toBe(mapped ? 4 : 6);
      const bytes = Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));
      if (!mapped) expect(formatIp(bytes)).toBe(canonical);
    }),
    fuzzed(1000),
  );
  fc.assert(
    fc.property(v4, (o) => {
      expect(normalizeIp(`::ffff:${o.join('.')}`)).toBe(o.join('.'));
      expect(normalizeIp(`::FFFF:${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`)).toBe(o.join('.'));
    }),
    fuzzed(500),
  );
});

test('a block holds exactly the addresses net.BlockList says it holds (IPv4-mapped on either side)', () => {
  const block = fc.oneof(
    fc.tuple(v4, fc.integer({ min: 0, max: 32 })).map(([o, prefix]) => ({ bytes: o, prefix, family: 'ipv4' as const })),
    fc.tuple(v6, fc.integer({ min: 0, max: 128 })).map(([g, prefix]) => ({ bytes: g.flatMap((x) => [x >> 8, x & 0xff]), prefix, family: 'ipv6' as const })),
  );
  const address = fc.oneof(v4Text, v6Text, mappedText);
  fc.assert(
    fc.property(block, fc.array(address, { minLength: 1, maxLength: 8 }), ({ bytes, prefix, family }, addresses) => {
      // The block's network address, host bits cleared (a rule with host bits set is refused, tested below).
      const network = bytes.map((b, i) => (i * 8 >= prefix ? 0 : i * 8 + 8 <= prefix ? b : b & (0xff << (8 - (prefix - i * 8))) & 0xff));
      const text = formatIp(Uint8Array.from(network));
      if (family === 'ipv6' && isIP(text) === 4 && prefix < 96) return; // an IPv4-mapped block needs /96 or more
      const rule = parseIpBlock(`${text}/${prefix}`);
      const list = new BlockList();
      list.addSubnet(text, isIP(text) === 4 && family === 'ipv6' ? prefix - 96 : prefix, isIP(text) === 4 ? 'ipv4' : 'ipv6');
      for (const a of [...addresses, text]) {
        const bytes = parseIp(a);
        const ours = bytes !== undefined && blockContains(rule, bytes);
        // By design an IPv6 block (::/0, ::/64) holds no IPv4 address, mapped or not; BlockList lets one spanning ::ffff:0:0/96 hold them.
        const node = rule.bytes.length === 16 && bytes?.length === 4 ? false : list.check(a, isIP(a) === 4 ? 'ipv4' : 'ipv6');
        expect({ block: `${text}/${prefix}`, a, holds: ours }).toEqual({ block: `${text}/${prefix}`, a, holds: node });
      }
    }),
    fuzzed(600),
  );
});

test('a block with bits set past its prefix is refused, naming the block it meant', () => {
  fc.assert(
    fc.property(v4, fc.integer({ min: 0, max: 31 }), (o, prefix) => {
      const hostBits = o.reduce((n, x) => n * 256 + x, 0) % 2 ** (32 - prefix);
      const text = `${o.join('.')}/${prefix}`;
      if (hostBits === 0) expect(parseIpBlock(text).prefix).toBe(prefix);
      else expect(() => parseIpBlock(text)).toThrow(/bits are set past the \/\d+ prefix \(did you mean [0-9.]+\/\d+\?\)/);
    }),
    fuzzed(1000),
  );
});
