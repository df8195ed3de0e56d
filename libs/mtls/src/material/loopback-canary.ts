import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { allowsRole } from '../server/startup-checks';
import type { MtlsMaterialSnapshot } from './material-snapshot';

const CANARY_TIMEOUT_MS = 5000;

/**
 * A real mutual-TLS handshake on loopback between a server made from the
 * snapshot's secure context and a client made from the same material, before
 * the material is used for anything: it proves that OpenSSL accepts the key,
 * chain, trust store, CRLs, protocols, suites and security level together.
 * Each side verifies what our certificate may be used for: when it may
 * serve (serverAuth EKU, or none), the client verifies the server against
 * our trust store; when it may call (clientAuth), the client presents it and
 * the server verifies it, CRLs included. Verification is skipped when our
 * own chain is not meant to verify against our trust store (validateCerts
 * false). Resolves, or rejects with the reason the handshake failed.
 */
export function loopbackCanary(snapshot: MtlsMaterialSnapshot): Promise<void> {
  const leaf = snapshot.material.identity.chain[0];
  const verifyServer = snapshot.options.validateCerts && allowsRole(leaf, 'serverAuth');
  const presentClient = allowsRole(leaf, 'clientAuth');
  const verify = snapshot.options.validateCerts && presentClient;
  const context = snapshot.secureContext;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const server = createServer({ ...context, requestCert: verify, rejectUnauthorized: verify });
    const sockets = new Set<TLSSocket>();
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      server.close();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`the loopback handshake did not finish within ${CANARY_TIMEOUT_MS} ms`)), CANARY_TIMEOUT_MS);
    timer.unref();
    server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
      const verifyError = socket.authorizationError ? String(socket.authorizationError) : undefined;
      finish(new Error(`the server side refused our own client certificate: ${verifyError ?? err.code ?? err.message}`));
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.end('ok');
    });
    server.on('error', (err) => finish(err));
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const client = connect({
        host: '127.0.0.1',
        port,
        key: presentClient ? context.key : undefined,
        cert: presentClient ? context.cert : undefined,
        ca: context.ca,
        crl: context.crl,
        minVersion: context.minVersion,
        maxVersion: context.maxVersion,
        ciphers: context.ciphers,
        rejectUnauthorized: verifyServer,
        // The server's name is checked per call by the client that calls it; here only the chain matters.
        checkServerIdentity: () => undefined,
      });
      sockets.add(client);
      client.on('error', (err: Error & { code?: string }) => finish(new Error(`the handshake failed: ${err.code ?? err.message}`)));
      client.on('data', () => finish());
      client.on('end', () => finish(new Error('the server side closed the loopback connection')));
    });
  });
}
