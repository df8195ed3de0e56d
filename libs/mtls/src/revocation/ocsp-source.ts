import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import { logSafe } from '../logging/log-safe';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import { httpFetch } from './http-fetch';
import { RevocationHosts } from './allowed-hosts';
import type { NetworkRevocationSource } from './mtls-revocation';
import { ocspRequest, readOcspResponse, type OcspFreshness, type OcspStatus } from './ocsp';
import type { ChainLink, MaybeAnswer, RevocationAnswer } from './revocation-answer';
import { SharedFetches } from './shared-fetches';

/** The largest OCSP response read. */
const MAX_OCSP_BYTES = 1024 * 1024;
/** After a failed query, how long a certificate answers "unknown" at once instead of asking again. */
const RETRY_AFTER_MS = 2000;

interface CachedStatus {
  url: string;
  status: OcspStatus;
  refreshAt: number;
  expiresAt: number;
}

/**
 * OCSP for client certificates (`ocsp: true`): the responder of the
 * certificate's Authority Information Access, or `ocspResponderUrl`, is
 * asked once per certificate (concurrent connections share the query), the
 * answer checked (readOcspResponse) and cached by certificate until its
 * nextUpdate, at most revocationRefreshMs without one; it is asked again in
 * the background after revocationRefreshMs or three quarters of the
 * answer's life. Keep-alive traffic never causes a query: answers are per
 * connection, and from memory. Freshness: our nonce must be echoed
 * (`ocspNonce`, default), or else the answer's thisUpdate may be at most
 * `ocspMaxAgeMs` old; an answer without nextUpdate is never used longer than
 * `ocspMaxAgeMs` (see cacheLife).
 */
export class OcspSource implements NetworkRevocationSource {
  readonly name = 'ocsp' as const;
  private readonly cache = new LRUCache<string, CachedStatus>({ max: 10_000 });
  private readonly queries = new SharedFetches<string, CachedStatus>();
  private readonly failures = new LRUCache<string, { at: number; error: string }>({ max: 10_000 });
  private options: ResolvedMtlsOptions;
  private hosts: RevocationHosts;

  constructor(
    snapshot: MtlsMaterialSnapshot,
    private readonly changed: (why: string) => void,
    private readonly logger = new Logger('MtlsRevocation'),
  ) {
    this.options = snapshot.options;
    this.hosts = RevocationHosts.of(snapshot);
  }

  update(snapshot: MtlsMaterialSnapshot): void {
    this.options = snapshot.options;
    this.hosts = RevocationHosts.of(snapshot);
  }

  answer(link: ChainLink, now: Date, cachedOnly: boolean, caller?: () => AbortSignal): MaybeAnswer {
    if (link.kind !== 'leaf') return undefined;
    const urls = this.options.ocspResponderUrl ? [this.options.ocspResponderUrl] : link.facts.ocspUrls;
    if (urls.length === 0) return undefined;
    const key = link.facts.fingerprint;
    const cached = this.cache.get(key);
    const time = now.getTime();
    if (cached && (cachedOnly || time < cached.expiresAt)) {
      if (!cachedOnly && time >= cached.refreshAt && !this.hosts.refusal(cached.url)) void this.query(cached.url, link).catch(() => undefined);
      return toAnswer(cached);
    }
    if (cachedOnly) return undefined;
    // The first responder on an allowed host; one query per certificate at most.
    const url = urls.find((u) => !this.hosts.refusal(u));
    if (!url) return unknown(urls[0], `OCSP ${this.hosts.refusal(urls[0])}`);
    const failed = this.failures.get(key);
    if (failed && time - failed.at < RETRY_AFTER_MS && !this.queries.has(key)) return unknown(url, failed.error);
    return this.query(url, link, caller).then(toAnswer, (err: Error) => unknown(url, err.message));
  }

  /** The query about `link`'s certificate, shared by the connections that wait for it (aborted once they have all gone). */
  private query(url: string, link: ChainLink, caller?: () => AbortSignal): Promise<CachedStatus> {
    return this.queries.run(link.facts.fingerprint, (signal) => this.ask(url, link, signal), caller);
  }

  private async ask(url: string, link: ChainLink, signal: AbortSignal): Promise<CachedStatus> {
    const key = link.facts.fingerprint;
    const { ocspNonce, ocspMaxAgeMs, revocationRefreshMs: refresh } = this.options;
    const freshness: OcspFreshness = ocspNonce ? { nonce: randomBytes(16) } : { maxAgeMs: ocspMaxAgeMs };
    let entry: CachedStatus;
    try {
      const body = await httpFetch(
        url,
        { timeoutMs: this.options.revocationTimeoutMs, maxBytes: MAX_OCSP_BYTES, signal },
        {
          method: 'POST',
          body: ocspRequest(link.facts.certificate, link.issuer, 'nonce' in freshness ? freshness.nonce : undefined),
          contentType: 'application/ocsp-request',
          accept: 'application/ocsp-response',
        },
      );
      const fetchedAt = Date.now();
      const status = readOcspResponse(body, link.facts.certificate, link.issuer, freshness, new Date(fetchedAt));
      if (status.status === 'unknown') throw new Error(`${url} does not know the certificate (status unknown)`);
      entry = { url, status, ...cacheLife(status, fetchedAt, freshness, ocspMaxAgeMs, refresh) };
    } catch (err) {
      const error = `OCSP ${url}: ${(err as Error).message.replace(`${url}: `, '')}`;
      if (signal.aborted) throw new Error(error, { cause: err }); // nobody waits any more: not a failure of the responder
      if (!this.failures.get(key)) this.logger.warn(`${logSafe(error, 300)} (about ${logSafe(link.facts.subject)}, serial ${link.facts.certificate.serialNumber})`);
      this.failures.set(key, { at: Date.now(), error });
      throw new Error(error, { cause: err });
    }
    this.failures.delete(key);
    const previous = this.cache.get(key);
    this.cache.set(key, entry);
    if (previous && previous.status.status !== entry.status.status) this.changed(`an OCSP answer about ${link.facts.subject}`);
    return entry;
  }
}

/**
 * How long an answer is used, and when it is asked for again in the
 * background: until its nextUpdate (at most 7 days), or, without one, at
 * most ocspMaxAgeMs after it was fetched; without a nonce also never once
 * its thisUpdate is older than ocspMaxAgeMs. Asked again after
 * revocationRefreshMs or three quarters of that life, whichever is sooner.
 */
function cacheLife(status: OcspStatus, fetchedAt: number, freshness: OcspFreshness, maxAgeMs: number, refresh: number): { expiresAt: number; refreshAt: number } {
  let expiresAt = status.nextUpdate ? Math.min(status.nextUpdate.getTime(), fetchedAt + 7 * 86_400_000) : fetchedAt + Math.min(maxAgeMs, refresh);
  if ('maxAgeMs' in freshness) expiresAt = Math.min(expiresAt, status.thisUpdate.getTime() + maxAgeMs);
  return { expiresAt, refreshAt: Math.min(fetchedAt + refresh, fetchedAt + Math.floor((expiresAt - fetchedAt) * 0.75)) };
}

function toAnswer(cached: CachedStatus): RevocationAnswer {
  const { status, url } = cached;
  if (status.status === 'revoked') return { result: 'revoked', source: 'ocsp', by: url, revokedAt: status.revokedAt, reason: status.reason };
  return { result: 'good', source: 'ocsp', by: url };
}

function unknown(url: string, error: string): RevocationAnswer {
  return { result: 'unknown', source: 'ocsp', by: url, refusal: 'revocation_unknown', detail: error };
}
