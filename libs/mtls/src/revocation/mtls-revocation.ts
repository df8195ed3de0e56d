import { Logger } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import { logSafe } from '../logging/log-safe';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import { CRL_EXPIRY_WARNING_MS, knownCas } from '../material/crl-checks';
import { indexedCrls } from '../material/tls-material.interface';
import { describeCert } from '../x509/trust-path';
import { CrlFileSource } from './crl-file-source';
import { LiveConnections } from './live-connections';
import { ChainBuilder, type PeerChain } from './peer-chain';
import type { ChainLink, MtlsRevocationCheck, RevocationAnswer, RevocationSourceOf } from './revocation-answer';

/** The judgement of a whole chain. */
export type RevocationVerdict =
  | { result: 'good' }
  | { result: 'revoked'; link: ChainLink; answer: Extract<RevocationAnswer, { result: 'revoked' }> }
  | { result: 'unknown'; link?: ChainLink; refusal: 'crl_expired' | 'revocation_unknown'; detail: string };

/** A network source (CRL distribution points, OCSP) plugged into the revocation checks. */
export interface NetworkRevocationSource extends RevocationSourceOf {
  /** Called when the material changes (new CAs, options). */
  update?(snapshot: MtlsMaterialSnapshot): void;
  close?(): void;
}

/** Makes the network sources of the options (set by the CRLDP and OCSP modules, so this file does not depend on them). */
export type NetworkSourceFactory = (snapshot: MtlsMaterialSnapshot, changed: (why: string) => void) => NetworkRevocationSource[];

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Revocation checking of client certificates for one application, right
 * after the TLS handshake (see the revocation gate): the CRL files of the
 * current material, CRLs from distribution points and OCSP answers, each
 * cached, so that a connection from a known caller is judged from memory.
 *
 * Per certificate (the client's, and with crlCheck `chain` each CA above it
 * that CRLs can speak about): any source saying revoked wins; else any
 * source saying good is enough; else the status is unknown (the failure
 * policy decides). It also keeps the open connections of admitted callers
 * and closes those of a certificate that new information revokes.
 */
export class MtlsRevocation {
  private readonly checked = new Subject<MtlsRevocationCheck>();
  /** Every answer a source gave for a new connection (for metrics): source, good/revoked/unknown, whether from memory. */
  readonly checks: Observable<MtlsRevocationCheck> = this.checked.asObservable();
  /** The open connections of admitted callers. */
  readonly live = new LiveConnections();
  private readonly chains = new ChainBuilder();
  private files = new CrlFileSource();
  private network: NetworkRevocationSource[] = [];
  private options!: ResolvedMtlsOptions;
  private timers: NodeJS.Timeout[] = [];
  private sweepTimer?: NodeJS.Timeout;
  private started = false;

  constructor(
    snapshot: MtlsMaterialSnapshot,
    private readonly networkSources: NetworkSourceFactory = () => [],
    private readonly logger = new Logger('MtlsRevocation'),
  ) {
    this.update(snapshot);
  }

  /** Takes the CRL files and CAs of a new material snapshot; open connections are judged again against them. */
  update(snapshot: MtlsMaterialSnapshot): void {
    const first = !this.started;
    this.started = true;
    this.options = snapshot.options;
    this.chains.setKnownCas(knownCas(snapshot.material));
    this.files = new CrlFileSource(indexedCrls(snapshot.material));
    if (first) this.network = this.networkSources(snapshot, (why) => this.recheckLive(why));
    else for (const source of this.network) source.update?.(snapshot);
    this.scheduleCrlFileTimers();
    this.scheduleSweep();
    if (!first) this.recheckLive('new CRL files');
  }

  /** Whether anything is checked: CRL files, CRL distribution points, or OCSP. */
  get active(): boolean {
    return this.files.configured || this.network.length > 0;
  }

  /** The failure policy in force. */
  get failOpen(): boolean {
    return this.options.revocationFailure === 'open';
  }

  /** The time one check may take before its status counts as unknown. */
  get timeoutMs(): number {
    return this.options.revocationTimeoutMs;
  }

  /** The chain of the verified client of `socket`, rebuilt from the CAs we know (undefined when it cannot be). */
  chainOf(socket: TLSSocket): PeerChain | undefined {
    return this.chains.chainOf(socket);
  }

  /**
   * Judges a chain that did not come in a TLS handshake (a certificate a
   * trusted proxy forwarded, with its intermediates); undefined when it does
   * not lead to a CA we know.
   */
  judgeCertificates(leaf: X509Certificate, intermediates: X509Certificate[]): RevocationVerdict | Promise<RevocationVerdict> | undefined {
    const chain = this.chains.build(leaf, intermediates);
    return chain ? this.judge(chain) : undefined;
  }

  /**
   * Judges a chain: from memory when every answer is known (a value), else
   * once the downloads and queries it needs are done (a promise). With
   * `cachedOnly` nothing is fetched and the last known answers are used.
   * `caller` gives the signal of the connection that waits, if any: fetches
   * every waiting connection has left are abandoned.
   */
  judge(
    chain: PeerChain,
    { cachedOnly = false, report = !cachedOnly, caller }: { cachedOnly?: boolean; report?: boolean; caller?: () => AbortSignal } = {},
  ): RevocationVerdict | Promise<RevocationVerdict> {
    const now = new Date();
    const perLink = this.linksToCheck(chain).map((link) => {
      const answers = this.sources().map((source) => {
        const answer = source.answer(link, now, cachedOnly, caller);
        if (answer && report) {
          if (answer instanceof Promise) void answer.then((a) => this.report(link, a, false), () => undefined);
          else this.report(link, answer, true);
        }
        return answer;
      });
      return { link, answers };
    });
    // A revocation known now decides now: what is still being fetched cannot undo it.
    for (const { link, answers } of perLink) {
      const revoked = answers.find((a): a is Extract<RevocationAnswer, { result: 'revoked' }> => !!a && !(a instanceof Promise) && a.result === 'revoked');
      if (revoked) return { result: 'revoked', link, answer: revoked };
    }
    if (perLink.every(({ answers }) => answers.every((a) => !(a instanceof Promise)))) {
      return this.combine(perLink.map(({ link, answers }) => ({ link, answers: answers as (RevocationAnswer | undefined)[] })));
    }
    // eslint-disable-next-line @typescript-eslint/await-thenable -- answers mix values and promises; Promise.all takes both
    return Promise.all(perLink.map(async ({ link, answers }) => ({ link, answers: await Promise.all(answers) }))).then((resolved) => this.combine(resolved));
  }

  /** Judges every open connection again from what is known now and closes those of revoked certificates. */
  recheckLive(why: string): void {
    for (const chain of this.live.chains()) {
      const verdict = this.judge(chain, { cachedOnly: true });
      if (!(verdict instanceof Promise) && verdict.result === 'revoked') this.closeRevoked(chain, verdict, why);
    }
  }

  private closeRevoked(chain: PeerChain, verdict: Extract<RevocationVerdict, { result: 'revoked' }>, why: string): void {
    const closed = this.live.closeAll(chain.leaf.fingerprint, describeVerdict(verdict));
    if (closed > 0) {
      this.logger.warn(`closed ${closed} open connection${closed > 1 ? 's' : ''} of ${logSafe(chain.leaf.subject)} (serial ${chain.leaf.certificate.serialNumber}): revoked (${why})`);
    }
  }

  private sources(): RevocationSourceOf[] {
    return [this.files, ...this.network];
  }

  /** The client certificate always; with crlCheck chain, the CAs above it too when CRLs are read (OCSP is asked about client certificates only). */
  private linksToCheck(chain: PeerChain): ChainLink[] {
    const crlsForCas = this.files.configured || this.options.enableCRLDP;
    return this.options.crlCheck === 'chain' && crlsForCas ? chain.links : chain.links.slice(0, 1);
  }

  private combine(perLink: { link: ChainLink; answers: (RevocationAnswer | undefined)[] }[]): RevocationVerdict {
    let unknown: RevocationVerdict | undefined;
    for (const { link, answers } of perLink) {
      const given = answers.filter((a): a is RevocationAnswer => a !== undefined);
      const revoked = given.find((a): a is Extract<RevocationAnswer, { result: 'revoked' }> => a.result === 'revoked');
      if (revoked) return { result: 'revoked', link, answer: revoked };
      if (given.some((a) => a.result === 'good') || unknown) continue;
      const unknowns = given.filter((a): a is Extract<RevocationAnswer, { result: 'unknown' }> => a.result === 'unknown');
      unknown = {
        result: 'unknown',
        link,
        refusal: unknowns.some((a) => a.refusal === 'crl_expired') ? 'crl_expired' : 'revocation_unknown',
        detail: unknowns.length > 0 ? unknowns.map((a) => a.detail).join('; ') : this.noSourceDetail(link),
      };
    }
    return unknown ?? { result: 'good' };
  }

  private noSourceDetail(link: ChainLink): string {
    const missing = [`no CRL of CA ${describeCert(link.issuer)} in crlPath`];
    if (this.options.enableCRLDP) missing.push('no http CRL distribution point in the certificate');
    if (this.options.ocsp && link.kind === 'leaf') missing.push('no OCSP responder');
    return `no revocation information for ${link.facts.subject} (serial ${link.facts.certificate.serialNumber}): ${missing.join(', ')}`;
  }

  private report(link: ChainLink, answer: RevocationAnswer, cached: boolean): void {
    this.checked.next({
      source: answer.source,
      result: answer.result,
      subject: link.facts.subject,
      serialNumber: link.facts.certificate.serialNumber,
      issuer: link.facts.issuer,
      cached,
    });
  }

  /** Warns an hour before each CRL file goes out of date, and says what happens when it does. */
  private scheduleCrlFileTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    const now = Date.now();
    for (const loaded of this.files.all()) {
      const next = loaded.crl.nextUpdate?.getTime();
      if (next === undefined || next < now) continue;
      const of = `the CRL of CA ${describeCert(loaded.issuerCa!)} in ${loaded.source}`;
      if (next - CRL_EXPIRY_WARNING_MS > now) {
        this.at(next - CRL_EXPIRY_WARNING_MS, () => this.logger.warn(`${of} goes out of date at ${new Date(next).toISOString()}: publish a new one before then`));
      }
      this.at(next, () =>
        this.failOpen
          ? this.logger.warn(`${of} is out of date since ${new Date(next).toISOString()}: it is no longer applied (revocationFailure open) until a current one is published`)
          : this.logger.error(`${of} is out of date since ${new Date(next).toISOString()}: clients it speaks about are refused (crl_expired) until a current one is published`),
      );
    }
  }

  /** Runs `fn` at `time` (timers longer than about 24 days are re-armed). */
  private at(time: number, fn: () => void): void {
    const delay = time - Date.now();
    const timer = setTimeout(() => (time - Date.now() > 0 ? this.at(time, fn) : fn()), Math.max(0, Math.min(delay, MAX_TIMER_MS)));
    timer.unref();
    this.timers.push(timer);
  }

  /**
   * Asks the network sources about the certificates of open connections
   * again as their answers age (a quarter of revocationRefreshMs, between
   * 1 and 60 s): a revocation published later reaches callers that stay
   * connected.
   */
  private scheduleSweep(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    if (this.network.length === 0) return;
    const every = Math.min(60_000, Math.max(1000, Math.floor(this.options.revocationRefreshMs / 4)));
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  private sweep(): void {
    for (const chain of this.live.chains()) {
      const verdict = this.judge(chain, { report: false });
      void Promise.resolve(verdict).then((v) => {
        if (v.result === 'revoked') this.closeRevoked(chain, v, 'new revocation information');
      });
    }
  }

  /** Stops timers and the network sources (at shutdown). */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    clearInterval(this.sweepTimer);
    for (const source of this.network) source.close?.();
    this.checked.complete();
  }
}

/** `serial 1A2B (CN=client), issuer CN=Global CA, revoked at 2026-01-01T00:00:00.000Z (keyCompromise), by crl /etc/mtls/crl.pem` */
export function describeVerdict(verdict: Exclude<RevocationVerdict, { result: 'good' }>): string {
  if (verdict.result === 'unknown') return verdict.detail;
  const { link, answer } = verdict;
  const when = answer.revokedAt ? ` at ${answer.revokedAt.toISOString()}` : '';
  const why = answer.reason ? ` (${answer.reason})` : '';
  return `serial ${link.facts.certificate.serialNumber}, issuer ${link.facts.issuer}, revoked${when}${why}, by ${answer.source} ${answer.by}`;
}
