import { promises as dns } from 'node:dns';
import type { Socket } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { ClientIdentity } from './client-identity.interface';
import { hostNameProblem } from './host-name';
import { formatIp, parseIp, type IpBytes } from './ip-address';

/** Whether a client's certificate names the address it connects from. */
export type EndpointVerdict = { ok: true; how: string } | { ok: false; reason: string };

/** How names resolve: `dns.promises.lookup` with `all: true` (the system resolver, /etc/hosts included). */
export type AddressLookup = (hostname: string) => Promise<string[]>;

interface Resolution {
  addresses: IpBytes[];
  error?: string;
  /** The DNS SAN is not a host name (it was not looked up). */
  notHost?: boolean;
}

const systemLookup: AddressLookup = async (hostname) => (await dns.lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** How endpoint identification behaves; the defaults suit a service. */
export interface EndpointIdentificationOptions {
  /** How long an answer (or a failure to resolve) is kept, in ms. Default 30000. */
  ttlMs?: number;
  /** The longest one lookup may take, in ms; then the name counts as not resolving (until the TTL ends). Default 2000. */
  timeoutMs?: number;
  /** At most this many DNS SANs of one certificate are resolved. Default 16. */
  maxNames?: number;
  /** Names kept in the cache at most. Default 1024. */
  maxCached?: number;
  lookup?: AddressLookup;
}

/**
 * Java's `endpointIdentificationAlgorithm: HTTPS` turned around to the
 * server's side, as the article sets it: a client certificate must name the
 * address the client connects from, as an IP SAN, or as a DNS SAN that
 * resolves to it. A DNS SAN is resolved only when it is a host name: an
 * address spelled as a name (`127.1`, `2130706433`, `0x7f.0.0.1`) is not, as
 * Java matches addresses against IP SANs only (see {@link hostNameProblem}). Judged once per connection and certificate (keep-alive
 * requests cost a lookup in a WeakMap); DNS answers are cached for a short
 * TTL and shared by every connection, so no request waits on DNS once a
 * name is known. IPv4-mapped peers (`::ffff:10.0.0.5`, what a dual-stack
 * server sees) compare as IPv4.
 */
export class EndpointIdentification {
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly maxNames: number;
  private readonly lookup: AddressLookup;
  private readonly names: LRUCache<string, { expires: number; resolution: Promise<Resolution> }>;
  private readonly bySocket = new WeakMap<Socket, { fingerprint: string; verdict: Promise<EndpointVerdict> }>();

  constructor(options: EndpointIdentificationOptions = {}) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.maxNames = options.maxNames ?? 16;
    this.names = new LRUCache({ max: options.maxCached ?? 1024 });
    this.lookup = options.lookup ?? systemLookup;
  }

  /** The verdict for the certificate `identity` presented on `socket` (computed once per socket and certificate). */
  check(socket: Socket, identity: ClientIdentity): Promise<EndpointVerdict> {
    const cached = this.bySocket.get(socket);
    if (cached && cached.fingerprint === identity.fingerprint256) return cached.verdict;
    const verdict = this.judge(socket.remoteAddress, identity);
    this.bySocket.set(socket, { fingerprint: identity.fingerprint256, verdict });
    return verdict;
  }

  /** The verdict for a certificate used from `remoteAddress` (as a socket reports it). */
  async judge(remoteAddress: string | undefined, identity: ClientIdentity): Promise<EndpointVerdict> {
    const peer = remoteAddress === undefined ? undefined : parseIp(remoteAddress, { allowZone: true });
    if (!peer) return { ok: false, reason: `the connection's address is unknown (${remoteAddress ?? 'closed'})` };
    const address = formatIp(peer);
    for (const ip of identity.san.ip) {
      const bytes = parseIp(ip);
      if (bytes && equal(bytes, peer)) return { ok: true, how: `IP SAN ${ip}` };
    }
    // Wildcards name no one host; an address spelled as a name (`127.1`, `2130706433`) is never resolved: addresses match IP SANs only.
    const names = identity.san.dns.filter((name) => !name.includes('*')).slice(0, this.maxNames);
    const resolutions = await Promise.all(names.map((name) => {
      const problem = hostNameProblem(name);
      return problem ? Promise.resolve<Resolution>({ addresses: [], error: problem, notHost: true }) : this.resolve(name);
    }));
    for (let n = 0; n < names.length; n++) {
      if (resolutions[n].addresses.some((a) => equal(a, peer))) return { ok: true, how: `DNS SAN ${names[n]} resolves to ${address}` };
    }
    const ips = identity.san.ip.length > 0 ? `its IP SANs are ${identity.san.ip.join(', ')}` : 'it has no IP SAN';
    const dnsText =
      names.length === 0
        ? 'no DNS SAN to resolve'
        : names.map((name, n) => `${name} ${resolutions[n].notHost ? resolutions[n].error : resolutions[n].error ? `does not resolve (${resolutions[n].error})` : `resolves to ${resolutions[n].addresses.map(formatIp).join(', ') || 'nothing'}`}`).join('; ');
    return { ok: false, reason: `endpoint identification (HTTPS): the client connects from ${address}, which its certificate does not name: ${ips}; ${dnsText}` };
  }

  private resolve(name: string): Promise<Resolution> {
    const key = name.toLowerCase().replace(/\.$/, '');
    const now = Date.now();
    const hit = this.names.get(key);
    if (hit && hit.expires > now) return hit.resolution;
    const resolution = this.lookupWithTimeout(key);
    this.names.set(key, { expires: now + this.ttlMs, resolution });
    return resolution;
  }

  private async lookupWithTimeout(name: string): Promise<Resolution> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Resolution>((resolve) => {
      timer = setTimeout(() => resolve({ addresses: [], error: `no answer within ${this.timeoutMs} ms` }), this.timeoutMs);
      timer.unref();
    });
    const answer = this.lookup(name).then(
      (addresses): Resolution => ({ addresses: addresses.map((a) => parseIp(a, { allowZone: true })).filter((a): a is IpBytes => a !== undefined) }),
      (err: NodeJS.ErrnoException): Resolution => ({ addresses: [], error: err.code ?? err.message }),
    );
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function equal(a: IpBytes, b: IpBytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
