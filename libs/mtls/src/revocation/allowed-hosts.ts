import type { X509Certificate } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import { describeCert } from '../x509/trust-path';
import { revocationUrls } from '../x509/certificate-facts';

/**
 * `host:port` of an `http:` URL, as fetched: lower-case host (IPv6 in
 * brackets), port 80 when none is written.
 */
export function hostOf(url: URL): string {
  return `${url.hostname.toLowerCase()}:${url.port || '80'}`;
}

/**
 * The hosts CRLs and OCSP answers may be fetched from, so that a
 * certificate a CA issued cannot make the service send requests anywhere
 * (SSRF): the hosts named in the CRL distribution points and OCSP responders
 * (Authority Information Access) of our own chain, of the certificates of
 * the trust store and of `intermediatesPath` (CAs we chose to know), the host of `ocspResponderUrl`, and those of
 * `revocationAllowedHosts`. Made once per material snapshot.
 */
export class RevocationHosts {
  /** What `refusal` said per URL ('' = allowed): a URL is parsed once, not per connection. */
  private readonly said = new LRUCache<string, string>({ max: 10_000 });

  private constructor(
    /** `host:port` -> where it came from (for the startup line). */
    private readonly hosts: ReadonlyMap<string, string>,
  ) {}

  /** The allowed hosts of a snapshot (cached per snapshot). */
  static of(snapshot: MtlsMaterialSnapshot): RevocationHosts {
    let hosts = bySnapshot.get(snapshot);
    if (!hosts) {
      hosts = new RevocationHosts(collect(snapshot));
      bySnapshot.set(snapshot, hosts);
    }
    return hosts;
  }

  /** Undefined when `url` may be fetched; otherwise why not (for the log). */
  refusal(url: string): string | undefined {
    let said = this.said.get(url);
    if (said === undefined) {
      said = this.judge(url) ?? '';
      this.said.set(url, said);
    }
    return said || undefined;
  }

  private judge(url: string): string | undefined {
    let host: string;
    try {
      host = hostOf(new URL(url));
    } catch {
      return `${url}: not fetched: not a URL`;
    }
    if (this.hosts.has(host)) return undefined;
    return `${url}: not fetched: ${host} is not a host our own chain or trust store names for revocation information, nor ocspResponderUrl's, nor in revocationAllowedHosts`;
  }

  /** The allowed hosts, each with where it came from (at most `limit` listed). */
  describe(limit = 10): string {
    if (this.hosts.size === 0) return 'none';
    const listed = [...this.hosts].slice(0, limit).map(([host, from]) => `${host} (${from})`);
    return listed.join(', ') + (this.hosts.size > limit ? `, and ${this.hosts.size - limit} more` : '');
  }

  get size(): number {
    return this.hosts.size;
  }
}

const bySnapshot = new WeakMap<MtlsMaterialSnapshot, RevocationHosts>();

function collect(snapshot: MtlsMaterialSnapshot): Map<string, string> {
  const hosts = new Map<string, string>();
  const add = (url: string, from: string) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return;
    }
    if (parsed.protocol !== 'http:') return; // nothing else is fetched
    const host = hostOf(parsed);
    if (!hosts.has(host)) hosts.set(host, from);
  };
  const { identity, trust, intermediates } = snapshot.material;
  const seen = new Set<string>();
  const named = [
    ...identity.chain.map((c) => [c, 'our chain'] as const),
    ...trust.cas.map((c) => [c, 'trust store'] as const),
    ...(intermediates?.certificates ?? []).map((c) => [c, 'intermediatesPath'] as const),
  ];
  for (const [cert, where] of named) {
    if (seen.has(cert.fingerprint256)) continue;
    seen.add(cert.fingerprint256);
    for (const [url, what] of urlsOf(cert)) add(url, `${what} of ${describeCert(cert)}, ${where}`);
  }
  if (snapshot.options.ocspResponderUrl) add(snapshot.options.ocspResponderUrl, 'ocspResponderUrl');
  for (const entry of snapshot.options.revocationAllowedHosts ?? []) add(`http://${entry}/`, 'revocationAllowedHosts');
  return hosts;
}

/** The CRL distribution points and OCSP responders a certificate names (none when its extensions do not parse). */
function urlsOf(cert: X509Certificate): [string, string][] {
  try {
    const { crl, ocsp } = revocationUrls(cert);
    return [...crl.map((u): [string, string] => [u, 'CRL distribution point']), ...ocsp.map((u): [string, string] => [u, 'OCSP responder'])];
  } catch {
    return [];
  }
}
