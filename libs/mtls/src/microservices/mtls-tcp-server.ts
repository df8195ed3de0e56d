import { ServerTCP, type TcpOptions } from '@nestjs/microservices';
import type { AddressInfo, Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { MtlsConfigError } from '../config/mtls-config.error';
import type { MtlsMaterialSource } from '../material/material-source';
import { failClosedServerOptions } from '../server/fail-closed-server-options';
import { TlsServerBinding } from '../server/tls-server-binding';
import { MTLS_DRAIN, untilDeadline, type Drainable, type DrainOutcome } from '../shutdown/drainable';
import { FirstMessageDeadline } from './first-message-deadline';

/**
 * Options of {@link MtlsTcpServer}: Nest's TCP transport options (`port`,
 * `host`, `retryAttempts`, framing limits, serializers), without
 * `tlsOptions`, which come from MtlsModule.
 */
export type MtlsTcpServerOptions = Omit<NonNullable<TcpOptions['options']>, 'tlsOptions'>;

/** The parts of a TCP connection's framing socket (Nest's TcpSocket) this server reads. */
interface FramingSocket {
  readonly netSocket?: Socket;
}

/**
 * Nest's TCP transport (`ServerTCP`) serving mutual TLS with the material of
 * the application's MtlsModule: the same contract as MtlsExpressAdapter.
 *
 *     // a hybrid application
 *     app.connectMicroservice(mtlsTcpMicroservice({ port: 8444 }));
 *     // a microservice on its own
 *     NestFactory.createMicroservice(AppModule, mtlsTcpMicroservice({ port: 8444 }));
 *     // or by hand
 *     app.connectMicroservice({ strategy: new MtlsTcpServer(app.get(MtlsMaterialSource), { port: 8444 }) });
 *
 * The TLS server is created fail-closed (client certificates demanded and
 * verified, no certificate of its own); the material is installed from
 * `source` in the constructor (our certificate must allow serverAuth), with
 * the client-certificate demands and the hardening of the options
 * (handshake timeout, no client-initiated renegotiation, the refusal log with
 * reason codes), and every later snapshot of `source.changes` is swapped in
 * for new handshakes (`setSecureContext`). A connection must send its first
 * complete message within `requestHeaderTimeoutMs` of its handshake. Without
 * material `listen()` fails with MtlsConfigError and nothing listens.
 *
 * Graceful shutdown (`enableGracefulShutdown`) drains it: no new
 * connections, idle connections (and handshakes in progress) closed at once,
 * a connection with messages being handled closed once their answers are
 * sent, whatever is left closed at the deadline.
 */
export class MtlsTcpServer extends ServerTCP implements Drainable {
  private readonly binding = new TlsServerBinding(MtlsTcpServer.name);
  private readonly firstMessage = new FirstMessageDeadline(() => this.binding.refusals);
  private readonly source?: MtlsMaterialSource;
  /** Messages being handled, per connection (the TCP socket under Nest's framing). */
  private readonly handling = new Map<Socket, number>();
  /** Every TCP connection, also before its handshake finished. */
  private readonly rawSockets = new Set<Socket>();
  private draining = false;

  constructor(source: MtlsMaterialSource, options: MtlsTcpServerOptions = {}) {
    if (options && 'tlsOptions' in options) {
      throw new MtlsConfigError(MtlsTcpServer.name, 'do not pass tlsOptions; MtlsModule supplies them');
    }
    // ServerTCP creates its server in its constructor: fail-closed until the material is installed below.
    super({ ...options, tlsOptions: failClosedServerOptions() });
    if (isMaterialSource(source)) {
      this.binding.install(this.server as TlsServer, source);
      this.source = source;
    }
    (this.server as unknown as TlsServer).prependListener('connection', (raw: Socket) => {
      this.rawSockets.add(raw);
      raw.once('close', () => this.rawSockets.delete(raw));
    });
  }

  /** Listens once the material is installed; otherwise calls back with MtlsConfigError and does not listen. */
  override listen(callback: (err?: unknown, ...optionalParams: unknown[]) => void): void {
    if (!this.binding.installed) {
      callback(
        new MtlsConfigError(
          MtlsTcpServer.name,
          'no MtlsModule material: construct it with the application\'s MtlsMaterialSource (new MtlsTcpServer(app.get(MtlsMaterialSource), options)), or use mtlsTcpMicroservice(options)',
        ),
      );
      return;
    }
    super.listen(callback);
  }

  /** Called by Nest for each connection whose TLS handshake succeeded. */
  override bindHandler(socket: Socket): void {
    super.bindHandler(socket);
    if (this.source) this.firstMessage.start(socket, this.source.current().options.requestHeaderTimeoutMs);
  }

  /** Called by Nest for each complete message. */
  override async handleMessage(socket: Parameters<ServerTCP['handleMessage']>[0], rawMessage: unknown): Promise<unknown> {
    const net = (socket as FramingSocket).netSocket;
    this.firstMessage.stop(net);
    if (!net) return super.handleMessage(socket, rawMessage);
    this.handling.set(net, (this.handling.get(net) ?? 0) + 1);
    try {
      // Resolves once the answer is written (Nest sends it before the handler's promise settles here).
      return await super.handleMessage(socket, rawMessage);
    } finally {
      const left = (this.handling.get(net) ?? 1) - 1;
      if (left > 0) this.handling.set(net, left);
      else {
        this.handling.delete(net);
        if (this.draining) net.end();
      }
    }
  }

  /** Graceful shutdown: see the class comment. */
  async [MTLS_DRAIN](deadline: number): Promise<DrainOutcome> {
    const server = this.server as unknown as TlsServer;
    const address = server.address() as AddressInfo | null;
    const listener = address && typeof address === 'object' ? `tcp ${address.address}:${address.port}` : 'tcp';
    const inFlight = [...this.handling.values()].reduce((n, c) => n + c, 0);
    this.draining = true;
    this.isManuallyTerminated = true; // ServerTCP would listen again when the server closes
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const established = new Set<Socket>();
    for (const socket of this.openSockets) {
      established.add((socket as Socket & { _parent?: Socket })._parent ?? socket);
      if (!this.handling.has(socket)) socket.end();
    }
    for (const raw of this.rawSockets) if (!established.has(raw)) raw.destroy(); // a handshake in progress
    if (!(await untilDeadline(closed, deadline))) return { listener, inFlight, cut: 0 };
    const cut = this.rawSockets.size;
    for (const raw of this.rawSockets) raw.destroy();
    for (const socket of this.openSockets) socket.destroy();
    await untilDeadline(closed, Date.now() + 1000);
    return { listener, inFlight, cut };
  }

  /** Stops listening, closes open connections, and stops following material changes. */
  override close(): void {
    this.binding.close();
    super.close();
  }
}

/** Duck-typed, so that the material of another copy of nest-mtls is recognised too. */
function isMaterialSource(value: unknown): value is MtlsMaterialSource {
  const candidate = value as Partial<MtlsMaterialSource> | undefined;
  return typeof candidate?.current === 'function' && typeof candidate.requireRole === 'function' && typeof candidate.changes?.subscribe === 'function';
}
