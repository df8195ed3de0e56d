import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { DnFormat } from './client-identity.interface';
import type { ClientIdentity } from './client-identity.interface';
import { connectionSocketOf } from './connection-socket';
import { IdentityCache } from './identity-cache';
import { identityFromCertificate } from './identity-from-certificate';
import { presentedSubject } from './presented-subject';

/**
 * What the peer of a TLS socket presented, as judged by the LAST handshake on it:
 * - `none`: not a TLS socket, or no certificate;
 * - `unverified`: a certificate that did not verify (`reason` is OpenSSL's verify
 *   error); `subject` is OpenSSL's rendering, for logs only;
 * - `verified`: a verified certificate and the identity built from it;
 * - `unreadable`: a verified certificate whose names cannot be printed exactly as
 *   OpenSSL prints them (`reason` says why); callers refuse it.
 */
export type PeerCertificateState =
  | { status: 'none' }
  | { status: 'unverified'; reason: string; subject?: string }
  | { status: 'verified'; identity: ClientIdentity }
  | { status: 'unreadable'; reason: string; subject?: string };

type Built = { identity: ClientIdentity } | { error: string };

/** State per TLS socket and DN form: keep-alive requests on the same connection do no work at all. */
const bySocket: Record<DnFormat, WeakMap<TLSSocket, PeerCertificateState>> = { rfc4514: new WeakMap(), jdk: new WeakMap() };
/** Identity per VERIFIED certificate and DN form: a new connection from a known caller costs a hash lookup, not a parse. */
const byCertificate: Record<DnFormat, IdentityCache<Built>> = { rfc4514: new IdentityCache<Built>(), jdk: new IdentityCache<Built>() };

const NONE: PeerCertificateState = { status: 'none' };

function isTlsSocket(socket: Socket | TLSSocket | undefined | null): socket is TLSSocket {
  return !!socket && (socket as TLSSocket).encrypted === true && typeof (socket as TLSSocket).getPeerX509Certificate === 'function';
}

function build(raw: Buffer, dnFormat: DnFormat): Built {
  try {
    return { identity: identityFromCertificate(new X509Certificate(raw), { dnFormat }) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * Verified means: the last handshake on the socket verified the peer's chain.
 * Node sets `authorized` on success but never clears it, and sets
 * `authorizationError` on failure but never clears it either: a socket whose
 * renegotiation failed verification still says `authorized`. Both must agree.
 * (hardenTlsServer also resets both before every renegotiation is judged.)
 */
function isVerified(socket: TLSSocket): boolean {
  return socket.authorized === true && !socket.authorizationError;
}

function resolve(socket: TLSSocket, dnFormat: DnFormat): PeerCertificateState | undefined {
  if (!isVerified(socket)) {
    // Unverified: nothing is parsed and nothing is cached across connections, whatever was presented.
    const subject = presentedSubject(socket);
    if (subject === undefined) return NONE;
    return { status: 'unverified', reason: String(socket.authorizationError ?? 'not verified'), subject };
  }
  // getPeerCertificate(false) for the fingerprint and DER only: after a full handshake it costs
  // about a third of getPeerX509Certificate(), which also copies the peer's chain (docs/benchmark.md).
  const peer = socket.getPeerCertificate(false);
  if (!peer?.raw || !peer.fingerprint256) return undefined; // the handshake may not be over yet: not cached
  const built = byCertificate[dnFormat].get(peer.fingerprint256, () => build(peer.raw, dnFormat));
  return 'identity' in built ? { status: 'verified', identity: built.identity } : { status: 'unreadable', reason: built.error, subject: presentedSubject(socket) };
}

/**
 * The state of the peer certificate of a socket, computed once per handshake
 * and cached on the socket; a renegotiation (a new handshake on the same
 * socket) drops the cached state, so it always follows the current
 * certificate. `dnFormat` is the form of the identity's DNs (MtlsModule's
 * `dnFormat`, default `rfc4514`). `socket` may also be an HTTP/2 request's
 * `req.socket`: the state is the connection's. Never throws.
 */
export function peerCertificateState(given: Socket | TLSSocket | undefined | null, dnFormat: DnFormat = 'rfc4514'): PeerCertificateState {
  // An HTTP/2 request's socket is a per-stream stand-in: the state belongs to the connection behind it.
  const socket = connectionSocketOf(given);
  if (!isTlsSocket(socket)) return NONE;
  const states = bySocket[dnFormat === 'jdk' ? 'jdk' : 'rfc4514'];
  const cached = states.get(socket);
  if (cached) return cached;
  const state = resolve(socket, dnFormat === 'jdk' ? 'jdk' : 'rfc4514');
  if (!state) return NONE;
  states.set(socket, state);
  socket.once('secure', () => states.delete(socket));
  return state;
}

/**
 * The identity of the VERIFIED peer of a TLS socket, otherwise undefined
 * (also when its names cannot be printed); never throws. Built once per
 * certificate and cached; follows renegotiations. `dnFormat` as for
 * {@link peerCertificateState}.
 */
export function peerIdentity(socket: Socket | TLSSocket | undefined | null, dnFormat: DnFormat = 'rfc4514'): ClientIdentity | undefined {
  const state = peerCertificateState(socket, dnFormat);
  return state.status === 'verified' ? state.identity : undefined;
}

/** Forgets what is cached for a socket (its handshake is being judged again). */
export function forgetPeerCertificate(socket: TLSSocket): void {
  bySocket.rfc4514.delete(socket);
  bySocket.jdk.delete(socket);
}

/** How many certificates have a cached identity, in either DN form (for tests: unverified ones never do). */
export function cachedIdentityCount(): number {
  return byCertificate.rfc4514.size + byCertificate.jdk.size;
}
