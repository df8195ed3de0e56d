import type { TLSSocket } from 'node:tls';
import { forgetPeerCertificate } from '../identity/peer-identity';

interface Hold {
  /** Judgements still awaited. */
  count: number;
  /** Whether the application asked the socket to flow (the last of pause/resume it called, or the state before). */
  flowing: boolean;
  /** What Node said of the last handshake before it was held. */
  authorized: boolean;
  /** Puts the socket's own pause/resume back. */
  restore: () => void;
}

const holds = new WeakMap<TLSSocket, Hold>();
const unconsumed = new WeakSet<TLSSocket>();
const noop = () => undefined;

/**
 * Holds back everything the application would read from `socket`, and makes
 * its peer read as unverified, until every returned function has been called
 * (the certificate of a renegotiation is being judged; renegotiations may
 * overlap). Call it synchronously in the socket's `secure` listener: Node
 * emits `secure` from inside OpenSSL's read loop, before it hands on the
 * first byte decrypted after the handshake.
 *
 * - Node's HTTP server parses straight from the TLS handle (its parser
 *   "consumes" the handle, and pausing the socket would not stop bytes the
 *   current read already decrypted); adding a `data` listener makes it give
 *   the handle back, so the bytes go through the socket's stream, where a
 *   paused socket keeps them (up to its high-water mark, then it stops
 *   reading from the network).
 * - Nothing resumes the socket meanwhile (the HTTP server after a drain, a
 *   request body being read): `pause` and `resume` only record what was
 *   asked, and the last wish is applied on release.
 * - A request already dispatched whose guard looks at the peer meanwhile
 *   sees no verified certificate (`authorized` is false until release).
 *
 * Release only when the certificate was admitted; a refused connection is
 * destroyed instead.
 */
export function holdReads(socket: TLSSocket): () => void {
  let hold = holds.get(socket);
  if (!hold) {
    if (!unconsumed.has(socket)) {
      unconsumed.add(socket);
      socket.on('data', noop);
    }
    const flowing = socket.readableFlowing !== false;
    socket.pause();
    const started: Hold = { count: 0, flowing, authorized: socket.authorized, restore: noop };
    started.restore = override(socket, {
      pause(this: TLSSocket) {
        started.flowing = false;
        return this;
      },
      resume(this: TLSSocket) {
        started.flowing = true;
        return this;
      },
    });
    hold = started;
    holds.set(socket, hold);
  }
  const current = hold;
  current.count++;
  current.authorized = socket.authorized;
  socket.authorized = false;
  forgetPeerCertificate(socket);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--current.count > 0) return;
    holds.delete(socket);
    current.restore();
    if (socket.destroyed) return;
    socket.authorized = current.authorized;
    forgetPeerCertificate(socket);
    if (current.flowing) socket.resume();
  };
}

/** Sets own methods on `target`; returns what puts back the ones it had (own, or its prototype's). */
function override<T extends object>(target: T, methods: Record<string, (...args: never[]) => unknown>): () => void {
  const saved = Object.keys(methods).map((name) => [name, Object.getOwnPropertyDescriptor(target, name)] as const);
  Object.assign(target, methods);
  return () => {
    for (const [name, descriptor] of saved) {
      if (descriptor) Object.defineProperty(target, name, descriptor);
      else delete (target as Record<string, unknown>)[name];
    }
  };
}
