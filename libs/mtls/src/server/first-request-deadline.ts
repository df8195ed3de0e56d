import type { Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { peerAddressOf } from '../logging/peer-address';
import type { TlsRefusalLog } from './tls-refusal-log';

const DEADLINE = Symbol('nest-mtls:first-request-deadline');

type Tracked = TLSSocket & { [DEADLINE]?: NodeJS.Timeout };

/**
 * Closes a connection that has not sent a complete request header within
 * `timeoutMs` of its handshake, in every mode. Node's own HTTP timeouts start
 * with the first byte of a request, so a client that completes the handshake
 * (without a certificate, in want mode) and then sends nothing would hold its
 * connection, and a file descriptor, forever.
 */
export function closeConnectionsWithoutRequest(server: HttpsServer, timeoutMs: number, refusals: TlsRefusalLog): void {
  server.on('secureConnection', (socket: Tracked) => {
    if (socket.destroyed) return;
    const timer = setTimeout(() => {
      refusals.record({ stage: 'connection', peer: peerAddressOf(socket), reason: 'timeout', detail: `no request header within ${timeoutMs} ms of the handshake` });
      socket.destroy();
    }, timeoutMs);
    timer.unref();
    socket[DEADLINE] = timer;
    socket.once('close', () => clearTimeout(timer));
  });
  // 'request' fires when a request's header is complete.
  server.prependListener('request', (request: { socket: Tracked }) => {
    const timer = request.socket[DEADLINE];
    if (timer) {
      clearTimeout(timer);
      request.socket[DEADLINE] = undefined;
    }
  });
}
