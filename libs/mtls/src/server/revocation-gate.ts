import { Logger } from '@nestjs/common';
import { constants as http2 } from 'node:http2';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { logSafe } from '../logging/log-safe';
import { RepeatSummarizer } from '../logging/repeat-summarizer';
import { describeVerdict, type MtlsRevocation, type RevocationVerdict } from '../revocation/mtls-revocation';
import type { PeerChain } from '../revocation/peer-chain';
import { holdReads } from './hold-reads';
import { endConnection } from './http2-server';
import { peerAddressOf, peerHostOf } from '../logging/peer-address';
import type { TlsRefusalLog } from './tls-refusal-log';
import { closeWebSocket, isWebSocketConnection, WS_CLOSE_REVOKED } from './websocket-close';

const BEFORE_GATE = Symbol('nest-mtls:runs-before-revocation-gate');
const GATED = Symbol('nest-mtls:revocation-gate');

type Listener = ((...args: unknown[]) => void) & { [BEFORE_GATE]?: true; listener?: Listener };

/**
 * Marks a `secureConnection` listener of ours (the per-connection hardening)
 * to run at once, before the revocation gate decides; every other listener
 * (the HTTP parser, a TCP transport's framing) sees the connection only once
 * it is admitted.
 */
export function runsBeforeRevocationGate<T extends (...args: never[]) => void>(listener: T): T {
  (listener as unknown as Listener)[BEFORE_GATE] = true;
  return listener;
}

/**
 * The revocation gate of a TLS server: right after each handshake, full or
 * resumed, before the application reads a byte of the connection, the
 * client's certificate (and with crlCheck chain its CAs) is judged by
 * `revocation` (CRL files, CRLs from distribution points, OCSP, from memory
 * when known). A revoked certificate, or one whose status is unknown under
 * revocationFailure `closed`, ends the connection without an HTTP answer
 * and one line in the refusal log (`revoked` with serial and issuer,
 * `revocation_unknown` or `crl_expired` with why); under `open` an unknown
 * status is admitted with a warning. Admitted connections are registered so
 * that a later revocation closes them (an HTTP/2 session with a GOAWAY, a
 * WebSocket with a close frame carrying 1008). An
 * HTTP/2 session is made only once its connection is admitted: no stream is
 * read before the verdict.
 *
 * Node's TLS server has no asynchronous step inside the handshake, and
 * pausing the socket does not hold back the HTTP parser (it reads the TLS
 * handle directly), so the gate holds back the `secureConnection` event
 * itself: listeners marked with {@link runsBeforeRevocationGate} run at
 * once, the others when the connection is admitted (synchronously when every
 * answer is in memory, which is the common case). A TLS 1.2 renegotiation
 * (allowRenegotiation) is judged the same way, and while its certificate's
 * answer is awaited nothing more is read from the connection and its peer
 * reads as unverified (holdReads); a refusal there is logged as a
 * renegotiation refused.
 */
export function installRevocationGate(server: TlsServer, revocation: MtlsRevocation, refusals: TlsRefusalLog, logger = new Logger('MtlsServer')): void {
  const target = server as TlsServer & { [GATED]?: true };
  if (target[GATED]) return;
  target[GATED] = true;
  const admittedUnknown = new RepeatSummarizer((line) => logger.warn(line));
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the server as `this` below
  const emit = server.emit;

  /**
   * Admits (true) or refuses the connection on `verdict`. A refusal is
   * logged, a revoked certificate even when the client has gone meanwhile.
   * `stage` says which handshake it judges: the first, or a renegotiation.
   */
  const decide = (socket: TLSSocket, verdict: RevocationVerdict, chain: PeerChain | undefined, stage: 'revocation' | 'renegotiation'): boolean => {
    const admit = verdict.result === 'good' || (verdict.result === 'unknown' && revocation.failOpen);
    if (socket.destroyed && (admit || verdict.result !== 'revoked')) return false;
    const peer = peerAddressOf(socket);
    const subject = chain?.leaf.subject;
    if (admit) {
      if (verdict.result === 'unknown') {
        const detail = verdict.detail;
        admittedUnknown.report(
          [peerHostOf(peer), subject, detail].join('\u0000'),
          () => `connection from ${logSafe(peer, 64)} admitted without a revocation answer (revocationFailure open): ${verdict.refusal} (${logSafe(detail, 400)})${subject ? `; subject ${logSafe(subject)}` : ''}`,
          (repeats, seconds) => `connection from ${logSafe(peerHostOf(peer), 64)} admitted without a revocation answer: ${verdict.refusal}: and ${repeats} more in the last ${seconds} s`,
        );
      }
      if (chain) {
        revocation.live.add(socket, chain, (detail) => {
          // A WebSocket gets a close frame with 1008 (policy violation) first: its client learns why the connection ended.
          const webSocket = isWebSocketConnection(socket);
          refusals.record({ stage: 'live', peer, reason: 'revoked', detail: webSocket ? `${detail}; WebSocket closed with ${WS_CLOSE_REVOKED} (policy violation)` : detail, subject });
          if (webSocket && closeWebSocket(socket, WS_CLOSE_REVOKED, 'client certificate revoked')) return;
          // An HTTP/2 session gets a GOAWAY (INADEQUATE_SECURITY) first: its client learns why every stream ended.
          endConnection(socket, http2.NGHTTP2_INADEQUATE_SECURITY);
        });
      }
      return true;
    }
    refusals.record({ stage, peer, reason: verdict.result === 'revoked' ? 'revoked' : verdict.refusal, detail: describeVerdict(verdict), subject });
    socket.destroy();
    return false;
  };

  /** The verdict about a connection: a value from memory, or a promise bounded by the revocation timeout (never rejected). */
  const judge = (socket: TLSSocket): { chain?: PeerChain; verdict: RevocationVerdict | Promise<RevocationVerdict> } | undefined => {
    if (!revocation.active || !socket.authorized || socket.authorizationError) return undefined; // unverified peers never reach a handler that trusts them
    const chain = revocation.chainOf(socket);
    if (!chain) {
      return { verdict: { result: 'unknown', refusal: 'revocation_unknown', detail: 'the chain of the client certificate cannot be rebuilt from the CAs we know' } };
    }
    const verdict = revocation.judge(chain, { caller: () => closeSignalOf(socket) });
    if (!(verdict instanceof Promise)) return { chain, verdict };
    return {
      chain,
      verdict: withTimeout(verdict, revocation.timeoutMs + 1000).catch((err: unknown): RevocationVerdict => ({ result: 'unknown', refusal: 'revocation_unknown', detail: (err as Error).message })),
    };
  };

  // Every event of the server passes here (each HTTP request too): anything but a new connection goes on as it came, without copying its arguments.
  server.emit = function gatedEmit(this: TlsServer, event: string | symbol, connection?: unknown): boolean {
    // eslint-disable-next-line prefer-rest-params -- passes the arguments on without an array per event
    if (event !== 'secureConnection') return Reflect.apply(emit, this, arguments) as boolean;
    const socket = connection as TLSSocket;
    const listeners = this.rawListeners('secureConnection') as Listener[];
    const before = listeners.filter(isBeforeGate);
    const after = listeners.filter((l) => !isBeforeGate(l));
    for (const listener of before) listener.call(this, socket);
    if (socket.destroyed) return listeners.length > 0;
    // The application gets the connection once the first handshake is admitted and no renegotiation is still being judged.
    let admitted = false;
    let released = false;
    let pending = 0;
    const release = () => {
      if (released || !admitted || pending > 0 || socket.destroyed) return;
      released = true;
      for (const listener of after) listener.call(this, socket);
    };
    if (revocation.active) {
      // With allowRenegotiation, a TLS 1.2 renegotiation may present another certificate, even while the first is
      // being judged: judged like the first; once the application reads, it reads nothing more until then
      // (Node emits `secure` before it hands on a byte decrypted after the handshake).
      socket.on('secure', () => {
        const again = judge(socket);
        if (!again) return;
        if (!(again.verdict instanceof Promise)) return void decide(socket, again.verdict, again.chain, 'renegotiation');
        const unhold = released ? holdReads(socket) : undefined;
        pending++;
        void again.verdict.then((verdict) => {
          pending--;
          if (!decide(socket, verdict, again.chain, 'renegotiation')) return;
          unhold?.();
          process.nextTick(release);
        });
      });
    }
    const judged = judge(socket);
    if (!judged) {
      admitted = true;
      release();
    } else if (!(judged.verdict instanceof Promise)) {
      admitted = decide(socket, judged.verdict, judged.chain, 'revocation');
      release();
    } else {
      pending++;
      void judged.verdict.then((verdict) => {
        pending--;
        admitted = decide(socket, verdict, judged.chain, 'revocation');
        process.nextTick(release);
      });
    }
    return listeners.length > 0;
  } as typeof server.emit;
}

const closeSignals = new WeakMap<TLSSocket, AbortSignal>();

/** A signal that aborts when `socket` closes (made once per socket, and only when a fetch waits on it). */
function closeSignalOf(socket: TLSSocket): AbortSignal {
  let signal = closeSignals.get(socket);
  if (!signal) {
    const controller = new AbortController();
    if (socket.destroyed) controller.abort();
    else socket.once('close', () => controller.abort());
    signal = controller.signal;
    closeSignals.set(socket, signal);
  }
  return signal;
}

function isBeforeGate(listener: Listener): boolean {
  return listener[BEFORE_GATE] === true || listener.listener?.[BEFORE_GATE] === true;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the revocation check did not finish within ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
