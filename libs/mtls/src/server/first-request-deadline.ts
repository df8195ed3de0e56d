import type { IncomingMessage } from 'node:http';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { peerAddressOf } from '../logging/peer-address';
import { endConnection, http2SessionOf } from './http2-server';
import type { TlsRefusalLog } from './tls-refusal-log';

const DEADLINE = Symbol('nest-mtls:first-request-deadline');

type Tracked = TLSSocket & { [DEADLINE]?: NodeJS.Timeout };

/**
 * Closes a connection that has not sent a complete request header within
 * `timeoutMs` of its handshake, in every mode. Node's own HTTP timeouts start
 * with the first byte of a request, so a client that completes the handshake
 * (without a certificate, in want mode) and then sends nothing would hold its
 * connection, and a file descriptor, forever. An HTTP/2 session is the same:
 * its first stream (a complete request header) must open in time, or the
 * session is ended (GOAWAY) and closed.
 */
export function closeConnectionsWithoutRequest(server: TlsServer, timeoutMs: number, refusals: TlsRefusalLog): void {
  server.on('secureConnection', (socket: Tracked) => {
    if (socket.destroyed) return;
    const timer = setTimeout(() => {
      refusals.record({ stage: 'connection', peer: peerAddressOf(socket), reason: 'timeout', detail: `no request header within ${timeoutMs} ms of the handshake` });
      endConnection(socket);
    }, timeoutMs);
    timer.unref();
    socket[DEADLINE] = timer;
    socket.once('close', () => clearTimeout(timer));
    // Node made the HTTP/2 session of the connection just before (its listener comes first): 'stream' fires when a stream's header is complete.
    http2SessionOf(socket)?.once('stream', () => clearDeadline(socket));
  });
  // 'request' fires when an HTTP/1.1 request's header is complete (HTTP/2 requests were counted as streams).
  server.prependListener('request', (request: IncomingMessage & { socket: Tracked }) => {
    if (request.httpVersionMajor === 2) return;
    clearDeadline(request.socket);
  });
}

function clearDeadline(socket: Tracked): void {
  const timer = socket[DEADLINE];
  if (timer) {
    clearTimeout(timer);
    socket[DEADLINE] = undefined;
  }
}
