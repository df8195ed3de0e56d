import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { peerAddressOf } from '../logging/peer-address';
import { endConnection, http2SessionOf } from './http2-server';
import type { TlsRefusalLog } from './tls-refusal-log';

/**
 * What Node's HTTP/1.1 server keeps on a connection's socket: its parser
 * (`parser`), which holds the request whose header it completed (`incoming`)
 * until that request is answered, `null` once the connection was upgraded
 * (WebSocket) or closed, none on a socket that never spoke HTTP/1.1; the
 * answer being written (`_httpMessage`); and `bytesWritten`, the bytes the
 * application wrote (TLS records Node or OpenSSL write on their own, such
 * as session tickets, are not counted): an answer.
 */
type ParsedSocket = TLSSocket & { parser?: { incoming?: unknown } | null; _httpMessage?: unknown };

/**
 * Closes a connection that has not sent a complete request header within
 * `timeoutMs` of its handshake, in every mode. Node's own HTTP timeouts start
 * with the first byte of a request, so a client that completes the handshake
 * (without a certificate, in want mode) and then sends nothing would hold its
 * connection, and a file descriptor, forever. An HTTP/2 session is the same:
 * its first stream (a complete request header) must open in time, or the
 * session is ended (GOAWAY) and closed.
 *
 * Per connection only: when the deadline passes, an HTTP/1.1 connection is
 * asked whether a request header arrived on it (nothing runs per request);
 * an HTTP/2 session's first stream clears it.
 */
export function closeConnectionsWithoutRequest(server: TlsServer, timeoutMs: number, refusals: TlsRefusalLog): void {
  server.on('secureConnection', (socket: ParsedSocket) => {
    if (socket.destroyed) return;
    // Node made the HTTP/2 session of the connection just before (its listener comes first): 'stream' fires when a stream's header is complete.
    const session = http2SessionOf(socket);
    const timer = setTimeout(() => {
      if (socket.destroyed || (!session && hadRequest(socket))) return;
      refusals.record({ stage: 'connection', peer: peerAddressOf(socket), reason: 'timeout', detail: `no request header within ${timeoutMs} ms of the handshake` });
      endConnection(socket);
    }, timeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    session?.once('stream', () => clearTimeout(timer));
  });
}

/** True when an HTTP/1.1 request header arrived complete on `socket`: it is being answered, or was answered, or the connection was upgraded after one. */
function hadRequest(socket: ParsedSocket): boolean {
  if (socket.parser === null) return true;
  return (socket.parser?.incoming ?? socket._httpMessage ?? null) !== null || socket.bytesWritten > 0;
}
