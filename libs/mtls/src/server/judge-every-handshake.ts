import type { TLSSocket } from 'node:tls';
import { forgetPeerCertificate } from '../identity/peer-identity';
import { presentedSubject } from '../identity/presented-subject';
import { reasonFromVerifyError } from '../telemetry/refusal-reason';
import type { TlsRefusalLog } from './tls-refusal-log';

/**
 * Judges every later handshake on a connection (a TLS 1.2 renegotiation) as
 * strictly as the first. Node re-verifies the new certificate but only ever
 * SETS `authorized` (on success) or `authorizationError` (on failure), so a
 * connection that renegotiates to an unverified certificate would still read
 * as authorized, with the new certificate as its peer. Before Node judges the
 * new handshake, both are reset and the cached identity is dropped; after it,
 * a connection that did not verify is logged and closed, in every mode.
 */
export function judgeEveryHandshake(socket: TLSSocket, peer: string, refusals: TlsRefusalLog): void {
  let subject: string | undefined;
  socket.prependListener('secure', () => {
    socket.authorized = false;
    (socket as { authorizationError: unknown }).authorizationError = null;
    forgetPeerCertificate(socket);
    subject = presentedSubject(socket); // before Node may destroy the socket (default mode)
  });
  socket.on('secure', () => {
    if (socket.authorized && !socket.authorizationError) return;
    const detail = String(socket.authorizationError ?? 'not verified');
    refusals.record({ stage: 'renegotiation', peer, reason: reasonFromVerifyError(detail), detail, subject });
    socket.destroy();
  });
}
