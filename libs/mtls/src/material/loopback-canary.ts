import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { allowsRole } from './startup-checks';
import type { MtlsMaterialSnapshot } from './material-snapshot';
import { secureContextOf } from './snapshot-secrets';

const CANARY_TIMEOUT_MS = 5000;
/** After the server side failed without a verify error, how long the client's own reason may take to arrive. */
const CLIENT_REASON_GRACE_MS = 200;

/**
 * Why the canary failed: `material`, the handshake between our own client and
 * server failed (something in the material OpenSSL does not accept);
 * `environment`, the canary could not run (loopback unavailable, no handshake
 * within the time): nothing is known against the material.
 */
export class CanaryError extends Error {
  constructor(
    message: string,
    readonly cause: 'material' | 'environment',
  ) {
    super(message);
    this.name = 'CanaryError';
  }
}

/** What one canary run saw besides its own handshake. */
export interface CanaryOutcome {
  /** Connections to the canary's port that were not its own client's: dropped unread, and ignored. */
  strangers: number;
}

/** Told the port of a canary that listens; may return what to call when that canary is done. */
type ListeningHook = (port: number) => void | (() => void);
const listeningHooks = new Set<ListeningHook>();

/**
 * Calls `hook` with the port of every canary once it listens, before its own
 * client connects, and the function `hook` returns (if any) when that
 * canary is done: for tests that attack it from other sockets, as a local
 * process watching the listening sockets would. Returns the unsubscribe.
 */
export function onCanaryListening(hook: ListeningHook): () => void {
  listeningHooks.add(hook);
  return () => listeningHooks.delete(hook);
}

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
 * false).
 *
 * Only its own connection is judged: any local process can connect to a
 * loopback port, so the listener accepts TCP connections paused and hands to
 * TLS only the one whose address and port are our client's (the other end of
 * a TCP connection is unique); every other one is dropped unread and counted.
 * Resolves with what it saw, or rejects with a CanaryError saying why.
 */
export function loopbackCanary(snapshot: MtlsMaterialSnapshot): Promise<CanaryOutcome> {
  const leaf = snapshot.material.identity.chain[0];
  const verifyServer = snapshot.options.validateCerts && allowsRole(leaf, 'serverAuth');
  const presentClient = allowsRole(leaf, 'clientAuth');
  const verify = snapshot.options.validateCerts && presentClient;
  const context = secureContextOf(snapshot);
  return new Promise<CanaryOutcome>((resolve, reject) => {
    let settled = false;
    let strangers = 0;
    let claimed = false;
    let serverFailure: NodeJS.Timeout | undefined;
    // The TLS side never listens: it gets our client's connection from the TCP listener below, and nothing else.
    const tlsServer = createServer({ ...context, requestCert: verify, rejectUnauthorized: verify });
    const listener = createNetServer({ pauseOnConnect: true });
    const sockets = new Set<Socket>();
    const onDone: Array<() => void> = [];
    let client: TLSSocket | undefined;
    let clientConnected: Promise<void> | undefined;
    const finish = (err?: CanaryError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(serverFailure);
      for (const socket of sockets) socket.destroy();
      listener.close();
      for (const done of onDone) done();
      if (err) reject(err);
      else resolve({ strangers });
    };
    const timer = setTimeout(() => finish(new CanaryError(`the loopback handshake did not finish within ${CANARY_TIMEOUT_MS} ms`, 'environment')), CANARY_TIMEOUT_MS);
    timer.unref();

    tlsServer.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
      const verifyError = socket.authorizationError ? String(socket.authorizationError) : undefined;
      if (verifyError) return finish(new CanaryError(`the server side refused our own client certificate: ${verifyError}`, 'material'));
      // No verify error: most likely our client hung up because it refused the server; its 'error' says why.
      serverFailure ??= setTimeout(() => finish(new CanaryError(`the server side of the handshake failed: ${err.code ?? err.message}`, 'material')), CLIENT_REASON_GRACE_MS);
    });
    tlsServer.on('secureConnection', (socket: TLSSocket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.end('ok');
    });

    listener.on('connection', (raw: Socket) => {
      // Read the other end now: after a reset Node no longer knows it.
      const from = { address: raw.remoteAddress, port: raw.remotePort };
      sockets.add(raw);
      raw.on('error', () => undefined);
      if (settled || !clientConnected) {
        strangers++;
        raw.destroy();
        return;
      }
      void clientConnected.then(() => {
        const ours = !claimed && from.address === client!.localAddress && from.port === client!.localPort;
        if (settled || !ours) {
          strangers++;
          raw.destroy();
          return;
        }
        claimed = true;
        tlsServer.emit('connection', raw);
      });
    });
    listener.on('error', (err: NodeJS.ErrnoException) => finish(new CanaryError(`cannot listen on 127.0.0.1: ${err.code ?? err.message}`, 'environment')));
    listener.listen(0, '127.0.0.1', () => {
      const { port } = listener.address() as AddressInfo;
      for (const hook of listeningHooks) {
        const done = hook(port);
        if (done) onDone.push(done);
      }
      const ours = connect({
        host: '127.0.0.1',
        port,
        key: presentClient ? context.key : undefined,
        cert: presentClient ? context.cert : undefined,
        ca: context.ca,
        crl: context.crl,
        minVersion: context.minVersion,
        maxVersion: context.maxVersion,
        ciphers: context.ciphers,
        // Our own client's key-exchange groups (`groups`), as MtlsHttpClient offers them.
        ...(context.ecdhCurve ? { ecdhCurve: context.ecdhCurve } : {}),
        rejectUnauthorized: verifyServer,
        // The server's name is checked per call by the client that calls it; here only the chain matters.
        checkServerIdentity: () => undefined,
      });
      client = ours;
      clientConnected = new Promise<void>((connected) => ours.once('connect', () => connected()));
      sockets.add(ours);
      ours.on('error', (err: Error & { code?: string }) =>
        finish(new CanaryError(err.code === 'ECONNREFUSED' ? `cannot connect to 127.0.0.1:${port}: ECONNREFUSED` : `the handshake failed: ${err.code ?? err.message}`, err.code === 'ECONNREFUSED' ? 'environment' : 'material')),
      );
      ours.on('data', () => finish());
      ours.on('end', () => finish(new CanaryError('the server side closed the loopback connection', 'material')));
    });
  });
}
