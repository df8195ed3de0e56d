import { maxHeaderSize } from 'node:http';
import { constants, type Http2SecureServer, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import { peerCertificateState } from '../identity/peer-identity';
import { presentedSubject } from '../identity/presented-subject';
import { peerAddressOf } from '../logging/peer-address';
import { endedByUs, socketOfSession } from './http2-server';
import type { TlsRefusalLog } from './tls-refusal-log';

/**
 * The HTTP/2 side of hardenTlsServer, on an HTTP/2 server (its HTTP/1.1
 * connections get the HTTP/1.1 rules):
 * - a stream whose request (header and body) has not arrived in full within
 *   requestTimeoutMs is answered 408 (when nothing was answered yet) and
 *   reset, as Node answers 408 an HTTP/1.1 request; its session goes on;
 * - a session Node or nghttp2 closes for breaking HTTP/2's bounds (a flood of
 *   PING or SETTINGS frames, too many refused streams, too many invalid
 *   frames) is one refusal (`protocol`, stage `connection`) with the peer,
 *   Node's reason and, when a request of it was judged, the caller's subject;
 * - a request whose header list is larger than an HTTP/1.1 request header
 *   may be (`http.maxHeaderSize`) has its stream refused (RST_STREAM
 *   ENHANCE_YOUR_CALM, as Node does) before the application sees it, also
 *   while the client has not acknowledged our SETTINGS (nghttp2 only holds a
 *   client to settings it acknowledged, and clients send their first
 *   requests before);
 * - over HTTP/2 only (`allowHTTP1: false`), a client that offered no ALPN
 *   protocol is closed and refused (`protocol`), instead of Node's plain-text
 *   403 answer.
 * (The first-request deadline covers a session that opens no stream.)
 */
export function hardenHttp2Server(server: Http2SecureServer, options: ResolvedMtlsOptions, refusals: TlsRefusalLog): void {
  applyStreamDeadline(server, options.requestTimeoutMs);
  refuseOversizedHeaders(server, maxHeaderSize);

  server.on('sessionError', (err: Error & { code?: string }, session: ServerHttp2Session) => {
    if (endedByUs(session) || !isBoundBreach(err)) return;
    const socket = socketOfSession(session);
    refusals.record({ stage: 'connection', peer: peerOf(socket), reason: 'protocol', detail: `HTTP/2 session closed: ${err.message}`, subject: subjectOf(socket, options) });
  });

  server.on('unknownProtocol', (socket: TLSSocket) => {
    refusals.record({
      stage: 'connection',
      peer: peerAddressOf(socket),
      reason: 'protocol',
      detail: 'the client offered no ALPN protocol; this server speaks HTTP/2 (h2) only (allowHTTP1: false)',
      subject: presentedSubject(socket),
    });
    socket.destroy();
  });
}

/**
 * Node's errors for a session it ends because the peer broke a bound
 * (ERR_HTTP2_ERROR: nghttp2's, e.g. "Flooding was detected";
 * ERR_HTTP2_TOO_MANY_INVALID_FRAMES), as opposed to the peer's own GOAWAY
 * with an error (ERR_HTTP2_SESSION_ERROR) or a connection that broke.
 */
function isBoundBreach(err: Error & { code?: string }): boolean {
  return err.code === 'ERR_HTTP2_ERROR' || err.code === 'ERR_HTTP2_TOO_MANY_INVALID_FRAMES';
}

function peerOf(socket: TLSSocket | undefined): string {
  try {
    return peerAddressOf(socket);
  } catch {
    return 'unknown';
  }
}

/**
 * The caller's subject when its identity was read (a request of it was
 * judged): Node reports a session's end once its socket is gone, when the
 * certificate can no longer be read, and nothing is read ahead for this.
 */
function subjectOf(socket: TLSSocket | undefined, options: ResolvedMtlsOptions): string | undefined {
  const state = peerCertificateState(socket, options.dnFormat);
  return state.status === 'verified' ? state.identity.subject : undefined;
}

/** Node checks its HTTP/1.1 request deadlines this often by default (`connectionsCheckingInterval`). */
const NODE_CHECK_INTERVAL_MS = 30_000;

/**
 * requestTimeoutMs for HTTP/2 streams. A request whose header ends the
 * stream (a GET) is complete when it is dispatched and costs nothing here;
 * one with a body is remembered until its client has sent all of it (the
 * stream is half-closed by the peer) and checked by one timer per server,
 * as Node checks HTTP/1.1 connections (a tenth of the deadline, from 250 ms
 * to 30 s).
 */
function applyStreamDeadline(server: Http2SecureServer, timeoutMs: number): void {
  const open = new Map<ServerHttp2Stream, number>();
  server.on('stream', (stream: ServerHttp2Stream, _headers: unknown, flags: number) => {
    if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0) return;
    open.set(stream, Date.now() + timeoutMs);
  });
  const every = Math.min(NODE_CHECK_INTERVAL_MS, Math.max(250, Math.floor(timeoutMs / 10)));
  let sweep: NodeJS.Timeout | undefined;
  const check = () => {
    const now = Date.now();
    for (const [stream, deadline] of open) {
      if (stream.destroyed || stream.closed || stream.state.remoteClose) {
        open.delete(stream);
      } else if (now >= deadline) {
        open.delete(stream);
        timeOut(stream);
      }
    }
  };
  const start = () => {
    sweep ??= setInterval(check, every);
    sweep.unref();
  };
  if (server.listening) start();
  server.on('listening', start);
  server.on('close', () => {
    clearInterval(sweep);
    sweep = undefined;
    open.clear();
  });
}

/** Answers 408 on a stream whose request did not arrive in time (unless it was answered already), then resets it. */
function timeOut(stream: ServerHttp2Stream): void {
  try {
    if (!stream.headersSent) stream.respond({ ':status': 408 }, { endStream: true });
  } catch {
    // The stream ended meanwhile: nothing to answer.
  }
  stream.close(constants.NGHTTP2_NO_ERROR);
}

/**
 * Refuses, before any listener (the application) sees it, a stream whose
 * header list (RFC 9113 §6.5.2: name, value and 32 octets per field) is
 * larger than `limit`, on a session whose client has not acknowledged our
 * SETTINGS yet; once it has, Node refuses such streams itself. The check
 * costs one property read per request after that.
 */
function refuseOversizedHeaders(server: Http2SecureServer, limit: number): void {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the server as `this` below
  const emit = server.emit;
  server.emit = function refuseOversized(this: Http2SecureServer, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'stream') {
      const stream = args[0] as ServerHttp2Stream;
      if (stream.session?.pendingSettingsAck && headerListSize(args[3]) > limit) {
        // Node reports the reset as the stream's error; nobody else listens to this stream.
        stream.on('error', ignore);
        stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM);
        return true;
      }
    }
    return (emit as (this: Http2SecureServer, e: string | symbol, ...a: unknown[]) => boolean).call(this, event, ...args);
  } as typeof server.emit;
}

const ignore = () => undefined;

/** The size of a raw header list (`[name, value, name, value, ...]`) as HTTP/2 counts it. */
function headerListSize(raw: unknown): number {
  if (!Array.isArray(raw)) return 0;
  let size = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) size += String(raw[i]).length + String(raw[i + 1]).length + 32;
  return size;
}
