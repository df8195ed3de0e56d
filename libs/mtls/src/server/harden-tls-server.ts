import type { Server as HttpsServer } from 'node:https';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import { markConnectionSocket } from '../identity/connection-socket';
import { presentedSubject } from '../identity/presented-subject';
import { closeConnectionsWithoutRequest } from './first-request-deadline';
import { hardenHttp2Server } from './http2-hardening';
import { isHttp2Server } from './http2-server';
import { judgeEveryHandshake } from './judge-every-handshake';
import { peerAddressOf, rememberPeerAddresses } from '../logging/peer-address';
import { reasonFromTlsError, reasonFromVerifyError } from '../telemetry/refusal-reason';
import { applyRequestDeadline } from './request-deadline';
import { runsBeforeRevocationGate } from './revocation-gate';
import { TlsRefusalLog } from './tls-refusal-log';

/**
 * Per-connection rules Node cannot take as server options, on a TLS server
 * (HTTPS or plain TLS):
 * - every refused handshake is logged once with the peer address, a stable
 *   reason code and a hint (repeats from one peer summarised);
 * - no client-initiated renegotiation over TLS 1.2 unless allowed, and when
 *   allowed, every renegotiation is judged like the first handshake;
 * - in "want" mode (needClientAuth=false) a presented but unverifiable
 *   certificate ends the connection, before the application reads from it
 *   (whatever validatePeers says: it only turns revocation checking off);
 * - on an HTTP server, a connection without a complete request header within
 *   requestHeaderTimeoutMs of its handshake is closed, and a request not
 *   received in full within requestTimeoutMs is answered 408 and closed;
 * - on an HTTP/2 server the same for its sessions and streams, and HTTP/2's
 *   bounds (see hardenHttp2Server); an HTTP/2 connection never renegotiates
 *   (RFC 9113 forbids it), whatever allowRenegotiation says.
 * Every TLS socket is marked as the connection of its requests (HTTP/2 hands
 * out stand-ins for it). Returns the refusal log (listeners can count refusals).
 */
export function hardenTlsServer(server: TlsServer, options: ResolvedMtlsOptions, refusals = new TlsRefusalLog()): TlsRefusalLog {
  rememberPeerAddresses(server);

  // Runs at once on every connection, before the revocation gate holds it back from the application.
  server.on('secureConnection', runsBeforeRevocationGate((socket: TLSSocket) => {
    markConnectionSocket(socket);
    const peer = peerAddressOf(socket);
    if (options.allowRenegotiation && socket.alpnProtocol !== 'h2') {
      judgeEveryHandshake(socket, peer, refusals);
    } else {
      socket.disableRenegotiation();
      let logged = false;
      socket.on('error', (err: Error & { code?: string }) => {
        if (err.code !== 'ERR_TLS_RENEGOTIATION_DISABLED' || logged) return;
        logged = true;
        refusals.record({ stage: 'renegotiation', peer, reason: 'renegotiation', detail: 'client-initiated renegotiation is disabled' });
        // Node only emits the error: an HTTP server answers it and closes the connection (its own error handler,
        // which may run after this one), a plain TLS server (TCP transport) would keep it open: close what is left.
        setImmediate(() => {
          if (!socket.destroyed) socket.destroy();
        });
      });
    }
    if (!options.needClientAuth && !socket.authorized) {
      const subject = presentedSubject(socket);
      if (subject !== undefined) {
        const detail = String(socket.authorizationError);
        refusals.record({ stage: 'handshake', peer, reason: reasonFromVerifyError(detail), detail, subject });
        socket.destroy();
      }
    }
  }));

  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    // Node destroyed the socket already; its verify error (if the handshake got that far) is still there.
    const verifyError = socket.authorizationError ? String(socket.authorizationError) : undefined;
    refusals.record({
      stage: 'handshake',
      peer: peerAddressOf(socket),
      reason: reasonFromTlsError(err.code, verifyError),
      detail: verifyError ?? err.code ?? err.message,
    });
  });

  const http2 = isHttp2Server(server);
  if (http2 || isHttpServer(server)) closeConnectionsWithoutRequest(server, options.requestHeaderTimeoutMs, refusals);
  // HTTP/1.1 requests, also those an HTTP/2 server serves to clients without h2.
  if (isHttpServer(server)) applyRequestDeadline(server, options.requestTimeoutMs);
  if (http2) hardenHttp2Server(server, options, refusals);
  return refusals;
}

/** An HTTPS server (it parses HTTP requests), as opposed to a plain TLS server (e.g. Nest's TCP transport). */
function isHttpServer(server: TlsServer): server is HttpsServer {
  return typeof (server as Partial<HttpsServer>).headersTimeout === 'number';
}
