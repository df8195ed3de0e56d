import { Logger } from '@nestjs/common';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';

const logger = new Logger('MtlsServer');

/**
 * Per-connection rules Node cannot take as server options: no client-initiated
 * renegotiation over TLS 1.2 unless allowed, and in "want" mode
 * (needClientAuth=false) a presented but unverifiable certificate ends the
 * connection. Refused handshakes are logged with their reason.
 */
export function hardenTlsServer(server: TlsServer, options: ResolvedMtlsOptions): void {
  server.on('secureConnection', (socket: TLSSocket) => {
    if (!options.allowRenegotiation) {
      socket.disableRenegotiation();
      socket.on('error', (err: Error & { code?: string }) => {
        if (err.code === 'ERR_TLS_RENEGOTIATION_DISABLED') logger.warn(`refused renegotiation from ${socket.remoteAddress}; connection closed`);
      });
    }
    if (!options.needClientAuth && options.validatePeers && !socket.authorized && hasPeerCertificate(socket)) {
      logger.warn(`refused ${socket.remoteAddress}: client certificate not trusted (${String(socket.authorizationError)})`);
      socket.destroy();
    }
  });
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    logger.warn(`TLS handshake from ${socket.remoteAddress ?? 'unknown'} refused: ${err.code ?? err.message}`);
  });
}

/** getPeerCertificate(false), not getPeerX509Certificate(): the latter also copies the peer's chain. */
function hasPeerCertificate(socket: TLSSocket): boolean {
  return Boolean(socket.getPeerCertificate(false)?.raw);
}
