import { Logger, type LoggerService } from '@nestjs/common';
import { ServerTCP, type BaseRpcContext, type ReadPacket, type TcpSocket } from '@nestjs/microservices';
import type { AddressInfo, Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { logSafe } from '../logging/log-safe';
import { logSafeLogger } from '../logging/log-safe-logger';
import { RepeatSummarizer } from '../logging/repeat-summarizer';
import { failClosedServerOptions } from '../server/fail-closed-server-options';
import { peerAddressOf, peerHostOf } from '../logging/peer-address';
import { isMtlsServing, type MtlsServing } from '../server/mtls-serving';
import { TlsServerBinding } from '../server/tls-server-binding';
import { MTLS_DRAIN, untilDeadline, type Drainable, type DrainOutcome } from '../shutdown/drainable';
import { BoundedJsonSocket } from './bounded-json-socket';
import { FirstMessageDeadline } from './first-message-deadline';
import { resolveTcpLimits, type MtlsTcpServerOptions, type ResolvedTcpLimits } from './mtls-tcp-server-options';

export type { MtlsTcpServerOptions } from './mtls-tcp-server-options';

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
 *     app.connectMicroservice({ strategy: new MtlsTcpServer(app.get(MtlsServing), { port: 8444 }) });
 *
 * The TLS server is created fail-closed (client certificates demanded and
 * verified, no certificate of its own); the material is installed from
 * `serving` (MtlsModule's material, revocation checks and events) in the constructor (our certificate must allow serverAuth), with
 * the client-certificate demands and the hardening of the options
 * (handshake timeout, no client-initiated renegotiation, the refusal log with
 * reason codes), and every later snapshot of the material source's `changes` is swapped in
 * for new handshakes (`setSecureContext`). A connection must send its first
 * complete message within `requestHeaderTimeoutMs` of its handshake. Without
 * material `listen()` fails with MtlsConfigError and nothing listens.
 *
 * Messages are framed by {@link BoundedJsonSocket} (Nest's `<length>#<json>`
 * read incrementally): a message larger than `maxMessageBytes` (default 1
 * MiB), a length prefix that is not a number, or a message that is not JSON
 * closes the connection, logged `refused: protocol` with the reason. A
 * connection without traffic for `idleTimeoutMs` (default 5 minutes) after
 * its first message is closed, unless a call is being handled on it. Events
 * without a handler are logged once per peer host and window (then counted),
 * with the pattern escaped and cut; every line Nest's transport writes goes
 * through `logSafe`.
 *
 * Graceful shutdown (`enableGracefulShutdown`) drains it: no new
 * connections, idle connections (and handshakes in progress) closed at once,
 * a connection with messages being handled closed once their answers are
 * sent, whatever is left closed at the deadline.
 */
export class MtlsTcpServer extends ServerTCP implements Drainable {
  private readonly binding = new TlsServerBinding(MtlsTcpServer.name);
  private readonly firstMessage = new FirstMessageDeadline(() => this.binding.refusals);
  private readonly serving?: MtlsServing;
  /** Messages being handled, per connection (the TCP socket under Nest's framing). */
  private readonly handling = new Map<Socket, number>();
  /** Every TCP connection, also before its handshake finished. */
  private readonly rawSockets = new Set<Socket>();
  private draining = false;
  private readonly limits: ResolvedTcpLimits;
  private readonly mtlsLogger = new Logger(MtlsTcpServer.name);
  /** Events nobody handles: one line per peer host and window, then a count. */
  private readonly unhandledEvents = new RepeatSummarizer((line) => this.mtlsLogger.warn(line));

  constructor(serving: MtlsServing, options: MtlsTcpServerOptions = {}) {
    const limits = resolveTcpLimits(options ?? {});
    const { maxMessageBytes: _max, idleTimeoutMs: _idle, ...tcp } = options ?? {};
    // ServerTCP creates its server in its constructor: fail-closed until the material is installed below.
    super({ ...tcp, tlsOptions: failClosedServerOptions() });
    this.limits = limits;
    // Nest's own lines from this transport (e.g. an event pattern nobody handles) carry peer text: escaped, whatever the application's logger.
    (this as unknown as { logger: LoggerService }).logger = logSafeLogger(this.logger);
    if (isMtlsServing(serving)) {
      this.binding.install(this.server as TlsServer, serving);
      this.serving = serving;
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
    if (this.serving) this.firstMessage.start(socket, this.serving.source.current().options.requestHeaderTimeoutMs);
    this.closeWhenIdle(socket);
  }

  /** Nest's framing for each connection: ours, with hard limits and without rescanning (see BoundedJsonSocket). */
  protected override getSocketInstance(socket: Socket): TcpSocket {
    return new BoundedJsonSocket(socket, {
      maxMessageBytes: this.limits.maxMessageBytes,
      incompleteMessageTimeoutMs: this.limits.incompleteMessageTimeoutMs,
      maxSendBufferBytes: this.limits.maxSendBufferBytes,
      refuse: (reason, detail) => this.binding.refusals?.record({ stage: 'connection', peer: peerAddressOf(socket), reason, detail }),
    });
  }

  /**
   * A connection without traffic for `idleTimeoutMs` is closed (a debug
   * line, not a refusal: a client's pooled connection goes idle normally),
   * unless a call is being handled on it.
   */
  private closeWhenIdle(socket: Socket): void {
    const { idleTimeoutMs } = this.limits;
    if (idleTimeoutMs <= 0 || socket.destroyed) return;
    socket.setTimeout(idleTimeoutMs);
    socket.on('timeout', () => {
      if (this.handling.has(socket)) {
        socket.setTimeout(idleTimeoutMs); // a call in flight: look again later
        return;
      }
      this.mtlsLogger.debug(`closed the idle connection from ${peerAddressOf(socket)} (no traffic for ${idleTimeoutMs} ms)`);
      socket.destroy();
    });
  }

  /** An event nobody handles is logged once per peer host and window (escaped, cut), then counted; Nest would log each, raw. */
  override async handleEvent(pattern: string, packet: ReadPacket, context: BaseRpcContext): Promise<unknown> {
    if (this.getHandlerByPattern(pattern)) return super.handleEvent(pattern, packet, context);
    const peer = peerAddressOf((context as BaseRpcContext & { getSocketRef?: () => { socket?: Socket } }).getSocketRef?.()?.socket);
    const host = peerHostOf(peer);
    this.unhandledEvents.report(
      host,
      () => `event with no handler from ${logSafe(peer, 64)}: pattern ${logSafe(pattern, 200)}`,
      (repeats, seconds) => `events with no handler from ${logSafe(host, 64)}: and ${repeats} more in the last ${seconds} s`,
      undefined,
      undefined,
      { peer: host },
    );
    return undefined;
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
    this.unhandledEvents.flush();
    super.close();
  }
}
