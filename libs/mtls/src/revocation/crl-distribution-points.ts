import { Logger } from '@nestjs/common';
import { createHash, randomBytes, type X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MtlsConfigError } from '../errors/mtls-config.error';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import { logSafe } from '../logging/log-safe';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import { knownCas, subjectDer } from '../material/crl-checks';
import { describeCert } from '../x509/trust-path';
import { RevocationHosts } from './allowed-hosts';
import { CrlIndex } from '../x509/crl-index';
import type { NetworkRevocationSource } from './mtls-revocation';
import { httpFetch } from './http-fetch';
import type { ChainLink, MaybeAnswer, RevocationAnswer } from './revocation-answer';
import { certificateFacts } from '../x509/certificate-facts';
import { SharedFetches } from './shared-fetches';

/** The largest CRL downloaded (a CRL of 100,000 entries is about 4 MB). */
export const MAX_CRL_BYTES = 32 * 1024 * 1024;
/** After a failed download, how long a URL answers "unknown" at once instead of being fetched again. */
const RETRY_AFTER_MS = 2000;
/** The most distribution points of one certificate that are tried, in order (a certificate naming many does not fan out). */
export const MAX_DISTRIBUTION_POINTS_TRIED = 3;

/** A CRL downloaded from one URL, checked, and when to fetch it again. */
interface CachedCrl {
  url: string;
  crl: CrlIndex;
  /** Fingerprint of the CA whose key signed it. */
  issuer: string;
  fetchedAt: number;
  /** From then on a connection that uses it starts a download in the background. */
  refreshAt: number;
  /** After this (its nextUpdate) it is not used: a download must succeed first. */
  expiresAt: number;
}

/**
 * CRLs from the CRL Distribution Points of certificates (`enableCRLDP`): the
 * `http:` URLs of each client certificate as it arrives, and of our own CAs
 * at startup. A download is bounded (revocationTimeoutMs, 32 MB), DER or
 * PEM, must be signed by the certificate's issuer (with cRLSign), current,
 * and not older than the one it replaces. CRLs are cached in memory and,
 * with `crlCacheDir`, on disk (read back after a restart, so that a restart
 * does not depend on the CRL server); a cached CRL is used until its
 * nextUpdate and fetched again in the background after revocationRefreshMs
 * (or three quarters of its life, whichever is sooner). Concurrent requests
 * for one URL share one download, aborted when every connection waiting for
 * it has closed. Only URLs on allowed hosts are fetched (RevocationHosts),
 * at most MAX_DISTRIBUTION_POINTS_TRIED per certificate.
 */
export class CrlDistributionPointSource implements NetworkRevocationSource {
  readonly name = 'crldp' as const;
  private readonly cache = new Map<string, CachedCrl>();
  private readonly downloads = new SharedFetches<string, CachedCrl>();
  private readonly failures = new Map<string, { at: number; error: string }>();
  private options: ResolvedMtlsOptions;
  private hosts: RevocationHosts;

  constructor(
    snapshot: MtlsMaterialSnapshot,
    private readonly changed: (why: string) => void,
    private readonly logger = new Logger('MtlsRevocation'),
    private readonly maxBytes = MAX_CRL_BYTES,
  ) {
    this.options = snapshot.options;
    this.hosts = RevocationHosts.of(snapshot);
    if (this.options.crlCacheDir) {
      try {
        mkdirSync(this.options.crlCacheDir, { recursive: true, mode: 0o700 });
      } catch (err) {
        throw new MtlsConfigError('crlCacheDir', `cannot create ${this.options.crlCacheDir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
    this.prefetchCaCrls(snapshot);
  }

  update(snapshot: MtlsMaterialSnapshot): void {
    this.options = snapshot.options;
    this.hosts = RevocationHosts.of(snapshot);
    this.prefetchCaCrls(snapshot);
  }

  answer(link: ChainLink, now: Date, cachedOnly: boolean, caller?: () => AbortSignal): MaybeAnswer {
    const urls = link.facts.crlUrls;
    if (urls.length === 0) return undefined;
    const time = now.getTime();
    for (const url of urls) {
      const cached = this.cached(url, link.issuer);
      if (cached && (cachedOnly || time < cached.expiresAt)) {
        if (!cachedOnly && time >= cached.refreshAt && !this.hosts.refusal(url)) void this.fetch(url, link.issuer).catch(() => undefined);
        return lookup(cached, link, time);
      }
    }
    if (cachedOnly) return undefined;
    const refused: string[] = [];
    const allowed: string[] = [];
    for (const url of urls) {
      const refusal = this.hosts.refusal(url);
      if (refusal) refused.push(refusal);
      else allowed.push(url);
    }
    if (allowed.length > MAX_DISTRIBUTION_POINTS_TRIED) refused.push(`${allowed.length - MAX_DISTRIBUTION_POINTS_TRIED} more distribution points not tried`);
    if (allowed.length === 0) return this.unknown(urls, link, refused);
    return this.fetchFirst(allowed.slice(0, MAX_DISTRIBUTION_POINTS_TRIED), link, time, refused, caller?.());
  }

  /** Tries the URLs in order until one gives a CRL (while the connection that asked is open); else unknown with every reason. */
  private async fetchFirst(urls: string[], link: ChainLink, time: number, refused: string[], signal: AbortSignal | undefined): Promise<RevocationAnswer> {
    const errors: string[] = [];
    for (const url of urls) {
      if (signal?.aborted) {
        errors.push('the connection that asked has closed');
        break;
      }
      const failed = this.failures.get(url);
      if (failed && time - failed.at < RETRY_AFTER_MS && !this.downloads.has(url)) {
        errors.push(failed.error);
        continue;
      }
      try {
        return lookup(await this.fetch(url, link.issuer, signal), link, Date.now());
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    return this.unknown(urls, link, [...errors, ...refused]);
  }

  /** Unknown, with every reason; crl_expired when a CRL of one of the URLs is known but out of date. */
  private unknown(urls: string[], link: ChainLink, errors: string[]): RevocationAnswer {
    const stale = urls.map((url) => this.cached(url, link.issuer)).find((c) => c !== undefined);
    return {
      result: 'unknown',
      source: 'crldp',
      by: urls[0],
      refusal: stale ? 'crl_expired' : 'revocation_unknown',
      detail: `${stale ? `the CRL from ${stale.url} is out of date since ${new Date(stale.expiresAt).toISOString()} and` : 'the CRL of CA ' + describeCert(link.issuer)} could not be downloaded: ${errors.join('; ')}`,
    };
  }

  /** The CRL of `url` in memory (or, the first time, in crlCacheDir), when it was signed by `issuer`. */
  private cached(url: string, issuer: X509Certificate): CachedCrl | undefined {
    let cached = this.cache.get(url);
    if (!cached && this.options.crlCacheDir) {
      cached = this.fromDisk(url, issuer);
      if (cached) this.cache.set(url, cached);
    }
    return cached?.issuer === issuer.fingerprint256 ? cached : undefined;
  }

  /**
   * Downloads, checks and caches the CRL of `url`; one download per URL at a
   * time, shared; `signal` is the asking connection's (none: a background
   * refresh or prefetch, which nobody abandons).
   */
  private fetch(url: string, issuer: X509Certificate, signal?: AbortSignal): Promise<CachedCrl> {
    return this.downloads.run(url, (abort) => this.download(url, issuer, abort), signal && (() => signal));
  }

  private async download(url: string, issuer: X509Certificate, signal: AbortSignal): Promise<CachedCrl> {
    let body: Buffer;
    let entry: CachedCrl;
    try {
      body = await httpFetch(url, { timeoutMs: this.options.revocationTimeoutMs, maxBytes: this.maxBytes, signal }, { accept: 'application/pkix-crl' });
      entry = this.accept(url, derOf(body), issuer);
    } catch (err) {
      const error = (err as Error).message;
      if (signal.aborted) throw err; // nobody waits any more: not a failure of the CRL server
      const first = !this.failures.has(url);
      this.failures.set(url, { at: Date.now(), error });
      if (first) this.logger.warn(`CRL distribution point ${logSafe(url)}: ${logSafe(error, 300)}`);
      throw err;
    }
    const previous = this.cache.get(url);
    if (previous && isOlder(entry.crl, previous.crl)) {
      throw this.fail(url, `the CRL from ${url} (thisUpdate ${entry.crl.thisUpdate.toISOString()}) is older than the one in use`);
    }
    const recovered = this.failures.delete(url);
    this.cache.set(url, entry);
    this.toDisk(url, entry.crl.der);
    const isNew = !previous || !previous.crl.der.equals(entry.crl.der);
    if (isNew || recovered) {
      this.logger.log(`CRL of CA ${describeCert(issuer)} from ${logSafe(url)}: ${entry.crl.revokedCount} revoked, next update ${entry.crl.nextUpdate?.toISOString() ?? 'not given'}`);
    }
    if (isNew && previous) this.changed(`a new CRL from ${url}`);
    return entry;
  }

  private fail(url: string, error: string): Error {
    this.failures.set(url, { at: Date.now(), error });
    this.logger.warn(`CRL distribution point ${logSafe(url)}: ${logSafe(error, 300)}`);
    return new Error(error);
  }

  /** Checks a CRL for `issuer` and makes the cache entry; throws saying what is wrong. */
  private accept(url: string, der: Buffer, issuer: X509Certificate, fetchedAt = Date.now()): CachedCrl {
    let crl: CrlIndex;
    try {
      crl = new CrlIndex(der);
    } catch (err) {
      throw new Error(`${url} did not send a CRL nest-mtls can read: ${(err as Error).message}`, { cause: err });
    }
    if (!crl.issuerDer.equals(subjectDer(issuer))) throw new Error(`the CRL from ${url} is issued by ${crl.issuer}, not by CA ${describeCert(issuer)}`);
    if (!crl.verifiedBy(issuer.publicKey)) throw new Error(`the signature of the CRL from ${url} does not verify with the key of CA ${describeCert(issuer)}`);
    if (crl.distributionPoints && !crl.distributionPoints.includes(url)) throw new Error(`the CRL from ${url} is for another distribution point (${crl.distributionPoints.join(', ')})`);
    const now = Date.now();
    if (!crl.isCurrent(new Date(now))) throw new Error(`the CRL from ${url} is not current (thisUpdate ${crl.thisUpdate.toISOString()}, nextUpdate ${crl.nextUpdate?.toISOString()})`);
    const refresh = this.options.revocationRefreshMs;
    const expiresAt = crl.nextUpdate?.getTime() ?? fetchedAt + refresh;
    const refreshAt = Math.min(fetchedAt + refresh, fetchedAt + Math.floor((expiresAt - fetchedAt) * 0.75));
    return { url, crl, issuer: issuer.fingerprint256, fetchedAt, refreshAt, expiresAt };
  }

  private diskPath(url: string): string {
    return join(this.options.crlCacheDir!, `${createHash('sha256').update(url).digest('hex').slice(0, 40)}.crl`);
  }

  /** A CRL kept by an earlier run: used when it still checks out, and fetched again soon. */
  private fromDisk(url: string, issuer: X509Certificate): CachedCrl | undefined {
    try {
      const entry = this.accept(url, readFileSync(this.diskPath(url)), issuer, 0);
      return { ...entry, refreshAt: 0 };
    } catch {
      return undefined;
    }
  }

  private toDisk(url: string, der: Buffer): void {
    if (!this.options.crlCacheDir) return;
    const file = this.diskPath(url);
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, der, { mode: 0o600 });
      renameSync(tmp, file);
    } catch (err) {
      rmSync(tmp, { force: true });
      this.logger.warn(`crlCacheDir: cannot keep the CRL from ${logSafe(url)} in ${this.options.crlCacheDir}: ${(err as Error).message}`);
    }
  }

  /** Downloads the CRLs our own CAs name (the CRLs of the CAs above them), in the background. */
  private prefetchCaCrls(snapshot: MtlsMaterialSnapshot): void {
    const cas = knownCas(snapshot.material);
    for (const ca of cas) {
      const issuer = cas.find((other) => other !== ca && ca.checkIssued(other) && ca.verify(other.publicKey));
      if (!issuer) continue;
      for (const url of certificateFacts(ca).crlUrls) {
        if (!this.cached(url, issuer)) void this.fetch(url, issuer).catch(() => undefined);
      }
    }
  }
}

/** What a cached CRL says about a certificate. */
function lookup(cached: CachedCrl, link: ChainLink, now: number): RevocationAnswer {
  const { crl, url } = cached;
  if (!crl.covers(link.kind)) {
    return { result: 'unknown', source: 'crldp', by: url, refusal: 'revocation_unknown', detail: `the CRL from ${url} does not speak about ${link.kind === 'leaf' ? 'end-entity' : 'CA'} certificates` };
  }
  if (crl.revokes(link.facts.serial)) {
    const entry = crl.revocationOf(link.facts.serial);
    return { result: 'revoked', source: 'crldp', by: url, revokedAt: entry?.revokedAt, reason: entry?.reason };
  }
  if (now >= cached.expiresAt) {
    return { result: 'unknown', source: 'crldp', by: url, refusal: 'crl_expired', detail: `the CRL from ${url} is out of date since ${new Date(cached.expiresAt).toISOString()}` };
  }
  return { result: 'good', source: 'crldp', by: url };
}

/** A downloaded body as DER: PEM (`X509 CRL` or `CRL`) is decoded, anything else taken as DER. */
function derOf(body: Buffer): Buffer {
  const text = body.subarray(0, 64).toString('latin1');
  if (!text.includes('-----BEGIN')) return body;
  const match = /-----BEGIN (?:X509 )?CRL-----([\s\S]*?)-----END (?:X509 )?CRL-----/.exec(body.toString('latin1'));
  if (!match) throw new Error('a PEM body without a CRL');
  return Buffer.from(match[1], 'base64');
}

/** A CRL that would roll back what we know: a lower CRL number, or an earlier thisUpdate. */
function isOlder(next: CrlIndex, current: CrlIndex): boolean {
  if (next.crlNumber !== undefined && current.crlNumber !== undefined) return BigInt(`0x${next.crlNumber}`) < BigInt(`0x${current.crlNumber}`);
  return next.thisUpdate < current.thisUpdate;
}
