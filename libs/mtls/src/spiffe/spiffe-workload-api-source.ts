import { Logger } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import type { MtlsPemMaterial, MtlsPemSource } from '../config/pem-source.interface';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { logLine } from '../logging/log-line';
import { logSafe } from '../logging/log-safe';
import { resolveSpiffeSourceOptions, type ResolvedSpiffeSourceOptions, type SpiffeWorkloadApiSourceOptions } from './spiffe-source-options';
import { WorkloadApiStream, type StreamBreak } from './workload-api-stream';
import { acceptX509SvidResponse, type AcceptedSvid, type X509SvidResponse } from './x509-svid-answer';

/** What the Workload API said last: material to serve, or why its answer was refused. */
type Latest = { svid: AcceptedSvid } | { refused: MtlsConfigError };

/**
 * TLS material from the SPIFFE Workload API (a SPIRE agent's socket): an
 * MtlsPemSource, so MtlsModule treats it as it treats files. Made by
 * {@link spiffeWorkloadApiSource}; see there.
 */
export interface SpiffeWorkloadApiSource extends MtlsPemSource {
  /** `SPIFFE Workload API unix:///run/spire/sockets/agent.sock` */
  readonly name: string;
  /** Emits on every answer of the stream, when the stream has been broken for `staleAfterMs`, and when it answers again. */
  readonly changed: Observable<void>;
  /** Waits for the first answer at startup (at most `startupTimeoutMs`); then the last answer, at once. */
  read(): Promise<MtlsPemMaterial>;
  /** Closes the stream (MtlsModule calls it at shutdown). */
  close(): void;
}

/**
 * Material from the SPIFFE Workload API: the X509-SVID and the trust bundle
 * of its trust domain that a SPIRE agent (or any Workload API server) hands
 * this workload over its Unix socket, followed as they rotate.
 *
 *     import { spiffeWorkloadApiSource } from 'nest-mtls/spiffe';
 *     MtlsModule.forRoot({ source: spiffeWorkloadApiSource({ spiffeId: 'spiffe://example.org/user-service' }) })
 *
 * It opens the FetchX509SVID stream (with the `workload.spiffe.io: true`
 * header) at the first read, which waits for the first answer at most
 * `startupTimeoutMs`: an unreachable socket stops startup with one line
 * naming `SPIFFE_ENDPOINT_SOCKET` (or `socketPath`) and the path. Each answer
 * is checked as an X509-SVID (one SPIFFE ID URI SAN, key matches, a bundle
 * of its own trust domain, the `spiffeId` asked for, the trust domain served
 * so far) and then, by MtlsModule, as any material is (chain to the bundle,
 * validity, EKU, the loopback mutual-TLS canary) before new handshakes get
 * it: a refused answer keeps the last good material and fails the reload
 * (health down) until a good one comes. The trust store is the bundle of
 * the SVID's trust domain only: federated bundles and CRLs in answers are
 * logged and not used. A broken stream is opened again with backoff (1 s
 * more each time, at most 30 s); the last SVID is served meanwhile, and once
 * it has been broken for `staleAfterMs` the source says so (reload failure,
 * /health down) until it answers again.
 */
export function spiffeWorkloadApiSource(options: SpiffeWorkloadApiSourceOptions = {}): SpiffeWorkloadApiSource {
  return new WorkloadApiSource(resolveSpiffeSourceOptions(options));
}

/** The implementation; its state is in private fields, so nothing reachable from it (not even by walking it) holds the key. */
export class WorkloadApiSource implements SpiffeWorkloadApiSource {
  readonly name: string;
  readonly changed: Observable<void>;
  readonly #options: ResolvedSpiffeSourceOptions;
  readonly #changed = new Subject<void>();
  readonly #logger = new Logger('MtlsSpiffe');
  #stream?: WorkloadApiStream;
  #latest?: Latest;
  /** The trust domain of the first SVID accepted: pinned for the life of the source. */
  #trustDomain?: string;
  /** Since when the stream is broken, why, and whether that has lasted `staleAfterMs`. */
  #brokenSince?: Date;
  #lastBreak?: StreamBreak;
  #staleTimer?: NodeJS.Timeout;
  #stale = false;
  /** Who waits for the first answer (or the first break that ends startup at once). */
  #waiting = new Set<() => void>();
  /** Whether waiting for the first answer was logged. */
  #waitLogged = false;
  /** The federated trust domains and CRL count logged last, so each change is logged once. */
  #ignoredLogged = '';
  #closed = false;

  constructor(options: ResolvedSpiffeSourceOptions) {
    this.#options = options;
    this.name = `SPIFFE Workload API ${options.address.uri}`;
    this.changed = this.#changed.asObservable();
  }

  async read(): Promise<MtlsPemMaterial> {
    if (this.#closed) throw new MtlsConfigError('source', `${this.name}: closed`);
    this.#start();
    if (!this.#latest) await this.#firstAnswer();
    if (this.#stale) throw this.#staleError();
    const latest = this.#latest!;
    if ('refused' in latest) throw latest.refused;
    return { ...latest.svid.material };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#staleTimer);
    this.#stream?.close();
    this.#stream = undefined;
    for (const wake of this.#waiting) wake();
    this.#changed.complete();
  }

  #start(): void {
    if (this.#stream) return;
    this.#stream = new WorkloadApiStream(this.#options.address.path, {
      answer: (response) => this.#answer(response),
      broken: (why, retryInMs) => this.#broken(why, retryInMs),
    });
    this.#stream.start();
  }

  /** Waits for the first answer; throws naming the socket when none comes in time, or when the Workload API refuses the request itself. */
  async #firstAnswer(): Promise<void> {
    const { startupTimeoutMs } = this.#options;
    let timer: NodeJS.Timeout | undefined;
    let wake!: () => void;
    const done = new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, startupTimeoutMs); // kept referenced: startup must not end because nothing else is pending
    });
    this.#waiting.add(wake);
    try {
      await done;
    } finally {
      clearTimeout(timer);
      this.#waiting.delete(wake);
    }
    if (this.#latest) return;
    const { address, addressSetting } = this.#options;
    if (this.#closed) throw new MtlsConfigError(addressSetting.setting, `${address.uri}: the source was closed before the SPIFFE Workload API answered`, addressSetting.variable);
    const why = this.#lastBreak;
    if (why?.code === 'INVALID_ARGUMENT') {
      throw new MtlsConfigError(addressSetting.setting, `the SPIFFE Workload API at ${address.uri} refused the request: ${logSafe(why.message, 300)}`, addressSetting.variable);
    }
    const hint =
      why?.code === 'PERMISSION_DENIED'
        ? ' (the agent holds no identity for this process: does a registration entry match it?)'
        : ' (is the SPIRE agent running, and is this its socket?)';
    throw new MtlsConfigError(
      addressSetting.setting,
      `the SPIFFE Workload API at ${address.uri} gave no X509-SVID within ${seconds(startupTimeoutMs)}: ${why ? logSafe(why.message, 300) : 'no answer'}${hint}`,
      addressSetting.variable,
    );
  }

  #answer(response: X509SvidResponse): void {
    if (this.#closed) return;
    const accepted = acceptX509SvidResponse(response, { spiffeId: this.#options.spiffeId, trustDomain: this.#trustDomain });
    if (typeof accepted === 'string') {
      this.#latest = { refused: new MtlsConfigError('source', `${this.name}: ${accepted}`) };
    } else {
      this.#trustDomain ??= accepted.trustDomain;
      this.#latest = { svid: accepted };
      this.#logIgnored(accepted);
    }
    if (this.#brokenSince) {
      logLine(this.#logger, 'log', `the SPIFFE Workload API at ${this.#options.address.uri} answers again (the stream was broken since ${this.#brokenSince.toISOString()})`, {
        event: 'spiffe_stream',
        state: 'answering',
      });
    }
    this.#brokenSince = undefined;
    this.#lastBreak = undefined;
    this.#stale = false;
    clearTimeout(this.#staleTimer);
    this.#staleTimer = undefined;
    for (const wake of this.#waiting) wake();
    this.#changed.next();
  }

  #broken(why: StreamBreak, retryInMs: number): void {
    if (this.#closed) return;
    this.#lastBreak = why;
    // At startup a refusal of the request itself (no security header, say) will not change: fail now.
    if (!this.#latest && why.code === 'INVALID_ARGUMENT') for (const wake of this.#waiting) wake();
    if (!this.#latest) {
      // Startup: said once while waiting; #firstAnswer says what happened when its time is up.
      if (!this.#waitLogged && why.code !== 'INVALID_ARGUMENT') {
        this.#waitLogged = true;
        logLine(this.#logger, 'warn', `no X509-SVID yet from the SPIFFE Workload API at ${this.#options.address.uri}: ${logSafe(why.message, 300)}; trying again for up to ${seconds(this.#options.startupTimeoutMs)}`, {
          event: 'spiffe_stream',
          state: 'waiting',
          code: why.code,
        });
      }
      return;
    }
    const first = this.#brokenSince === undefined;
    this.#brokenSince ??= new Date();
    logLine(
      this.#logger,
      first ? 'warn' : 'debug',
      `the SPIFFE Workload API stream at ${this.#options.address.uri} broke: ${logSafe(why.message, 300)}; opening it again in ${retryInMs / 1000} s; still serving the last X509-SVID${first ? ` (the source reports it after ${seconds(this.#options.staleAfterMs)})` : ''}`,
      { event: 'spiffe_stream', state: 'broken', code: why.code, retryInMs },
    );
    if (first) {
      this.#staleTimer = setTimeout(() => this.#becameStale(), this.#options.staleAfterMs);
      this.#staleTimer.unref();
    }
  }

  #becameStale(): void {
    this.#staleTimer = undefined;
    if (this.#closed || !this.#brokenSince) return;
    this.#stale = true;
    logLine(this.#logger, 'error', this.#staleError().message, { event: 'spiffe_stream', state: 'stale', since: this.#brokenSince.toISOString() });
    this.#changed.next(); // the reload that follows fails: health and lastReload say so
  }

  #staleError(): MtlsConfigError {
    const { address, addressSetting, staleAfterMs } = this.#options;
    return new MtlsConfigError(
      addressSetting.setting,
      `the SPIFFE Workload API at ${address.uri} has not answered since ${this.#brokenSince?.toISOString()} (longer than staleAfterMs, ${seconds(staleAfterMs)}): ${logSafe(this.#lastBreak?.message ?? 'stream broken', 300)}; still serving the last X509-SVID until it answers again`,
      addressSetting.variable,
    );
  }

  /** Logs, once per change, what an answer offered that is not used: federated bundles and CRLs. */
  #logIgnored(svid: AcceptedSvid): void {
    const key = `${svid.federatedTrustDomains.join(',')}|${svid.crls}`;
    if (key === this.#ignoredLogged) return;
    this.#ignoredLogged = key;
    if (svid.federatedTrustDomains.length > 0) {
      logLine(
        this.#logger,
        'warn',
        `the SPIFFE Workload API offers federated bundles of ${svid.federatedTrustDomains.join(', ')}: not trusted (one trust store cannot tie a CA to the trust domain it may sign for, so a federated CA could sign IDs of ${svid.trustDomain}); peers of other trust domains are refused in the handshake`,
        { event: 'spiffe_federated_ignored', trustDomains: svid.federatedTrustDomains.join(',') },
      );
    }
    if (svid.crls > 0) {
      logLine(this.#logger, 'warn', `the SPIFFE Workload API sent ${svid.crls} CRL(s): not used (give crlPath, or rely on short-lived SVIDs)`, { event: 'spiffe_crls_ignored', count: svid.crls });
    }
  }
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}
