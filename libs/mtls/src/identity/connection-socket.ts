import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** A registered symbol, so that what one copy of nest-mtls marks another finds. */
const CONNECTION = Symbol.for('nest-mtls.connection-socket');

type Marked = Socket & { [CONNECTION]?: TLSSocket };

/**
 * Marks a server-side TLS socket as the connection its requests arrive on
 * (the endpoints do it right after each handshake), so that
 * {@link connectionSocketOf} finds it behind the stand-ins HTTP/2 hands out.
 */
export function markConnectionSocket(socket: TLSSocket): void {
  (socket as Marked)[CONNECTION] = socket;
}

/**
 * The TLS socket a request arrived on. For HTTP/1.1 that is `socket` itself;
 * an HTTP/2 request's `req.socket` (and its session's `socket`) is a Proxy
 * Node makes per stream (per session), which forwards what it is asked to
 * the session's TLS socket: asking it for the mark answers with that socket,
 * so the identity is read, and cached, once per connection, not once per
 * stream. Anything unmarked comes back as it is.
 */
export function connectionSocketOf<S extends Socket | undefined | null>(socket: S): S | TLSSocket {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- Marked names the field we read
  return (socket as Marked | undefined | null)?.[CONNECTION] ?? socket;
}
