import { isIPv6 } from 'node:net';

/**
 * The unit of fairness for a peer host in log summaries: an IPv4 address as
 * it is, an IPv6 address by its /64 prefix (`2001:db8:1:2::/64`), since one
 * host commonly holds a whole /64 and could otherwise pass for millions of
 * peers. Anything else (a name, `unknown`) as it is.
 */
export function peerGroupOf(host: string): string {
  if (!isIPv6(host)) return host;
  const [head, tail = ''] = host.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An IPv4-mapped or -embedded tail ("::ffff:10.0.0.1") counts as two groups.
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length - (right.at(-1)?.includes('.') ? 1 : 0))).fill('0'), ...right];
  if (!host.includes('::') && groups.length < 8) return host;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
