import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ClientIdentity } from './client-identity.interface';
import { IdentityCache } from './identity-cache';
import { identityFromCertificate } from './identity-from-certificate';

/** Identity per TLS socket: keep-alive requests on the same connection do no work at all. */
const cache = new WeakMap<TLSSocket, { identity: ClientIdentity | undefined }>();
/** Identity per certificate: a new connection from a known caller costs a hash lookup, not a parse. */
const byCertificate = new IdentityCache();

function isTlsSocket(socket: Socket | TLSSocket | undefined | null): socket is TLSSocket {
  return (
    !!socket &&
    (socket as TLSSocket).encrypted === true &&
    typeof (socket as TLSSocket).getPeerX509Certificate === 'function'
  );
}

function build(cert: X509Certificate): ClientIdentity | undefined {
  try {
    return identityFromCertificate(cert);
  } catch {
    return undefined; // a certificate whose names OpenSSL itself could not print: no identity (fail closed)
  }
}

/**
 * The identity of the peer certificate of a TLS socket, whether or not the
 * chain verified: for logging only, never for access decisions. Undefined
 * when the socket is not TLS, presented no certificate, or its names cannot
 * be printed. Cached per socket.
 */
export function peerCertificateIdentity(socket: Socket | TLSSocket | undefined | null): ClientIdentity | undefined {
  if (!isTlsSocket(socket)) return undefined;
  const cached = cache.get(socket);
  if (cached) return cached.identity;
  // getPeerCertificate(false) for the fingerprint and DER only: after a full handshake it costs
  // about a third of getPeerX509Certificate(), which also copies the peer's chain (docs/benchmark.md).
  // Nothing else is read from the legacy object (its subject loses escaping and RDN grouping).
  const peer = socket.getPeerCertificate(false);
  if (!peer?.raw || !peer.fingerprint256) return undefined; // not cached: the handshake may not be over yet
  const entry = { identity: byCertificate.get(peer.fingerprint256, () => build(new X509Certificate(peer.raw))) };
  cache.set(socket, entry);
  return entry.identity;
}

/**
 * The identity of the VERIFIED peer of a TLS socket (`socket.authorized === true`),
 * otherwise undefined; never throws. Built from the peer certificate
 * once per socket and cached.
 */
export function peerIdentity(socket: Socket | TLSSocket | undefined | null): ClientIdentity | undefined {
  if (!isTlsSocket(socket) || socket.authorized !== true) return undefined;
  return peerCertificateIdentity(socket);
}
