import { Logger } from '@nestjs/common';
import { ServerGrpc, type GrpcOptions } from '@nestjs/microservices';
import { Server as GrpcServer, ServerCredentials, type ConnectionInjector, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { AddressInfo, Socket } from 'node:net';
import { createServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { rememberCallConnection } from '../identity/call-connection';
import { peerAddressOf } from '../logging/peer-address';
import { FirstMessageDeadline } from '../microservices/first-message-deadline';
import { failClosedServerOptions } from '../server/fail-closed-server-options';
import { isMtlsServing, type MtlsServing } from '../server/mtls-serving';
import { TlsServerBinding } from '../server/tls-server-binding';
import { MTLS_DRAIN, untilDeadline, type Drainable, type DrainOutcome } from '../shutdown/drainable';
import { grpcListenAddress, type GrpcListenAddress } from './grpc-listen-address';

/**
 * Options of {@link MtlsGrpcServer}: Nest's gRPC transport options
 * (`url`, `package`, `protoPath`, `loader`, message limits, keepalive) without
 * `credentials`: the TLS side is MtlsModule's.
 */
export type MtlsGrpcServerOptions = Omit<GrpcOptions['options'], 'credentials'>;

/** A grpc-js call as its handler gets it: `getPeer()` names the connection (`address:port`); streams emit `close` when done. */
interface PeerNamedCall {
  getPeer?: () => string;
  once?: (event: string, listener: () => void) => unknown;
}

/**
 * Nest's gRPC transport (`ServerGrpc`, `@GrpcMethod` handlers, over
 * @grpc/grpc-js) serving mutual TLS with the material of the application's
 * MtlsModule:
 *
 *     app.connectMicroservice(mtlsGrpcMicroservice({ url: '0.0.0.0:8445', package: 'users', protoPath }));
 *
 * The TLS side is nest-mtls's own TLS server, the same as the TCP
 * transport's (ALPN `h2` only): client certificates demanded and verified in
 * the handshake (a client without one, or with one our trust store does not
 * verify, gets no connection), the hardening and refusal log with reason
 * codes, the revocation gate (a revoked certificate's connection is closed
 * before a byte of HTTP/2 is read, and an open one is cut when its
 * certificate is revoked later), and every later snapshot of the material
 * swapped in for new handshakes (`setSecureContext`), without a restart.
 * Each admitted connection is handed to grpc-js as an established
 * connection (`Server.createConnectionInjector`), so grpc-js speaks HTTP/2
 * and gRPC over it and never sees a key.
 *
 * Each call is registered with the TLS connection it arrived on before its
 * handler runs: ClientCertGuard (`@RequireClientCert` on `@GrpcMethod`
 * handlers, or global) reads the caller's identity from it, once per
 * connection, and refuses with gRPC status PERMISSION_DENIED and the
 * message "Certificate subject is not recognized!"; `@ClientCert()` gives
 * handlers the admitted identity. Without material `listen()` fails with
 * MtlsConfigError and nothing listens.
 *
 * A connection must start its first call within `requestHeaderTimeoutMs` of
 * its handshake (else it is closed, logged `refused: timeout`); grpc-js's
 * own limits (message sizes, keepalive, `grpc.max_connection_idle_ms` in
 * `channelOptions`) apply after that. Graceful shutdown
 * (`enableGracefulShutdown`) drains it: no new connections, a GOAWAY to every
 * session, calls in flight finish, whatever is left is closed at the
 * deadline.
 */
export class MtlsGrpcServer extends ServerGrpc implements Drainable {
  private readonly binding = new TlsServerBinding(MtlsGrpcServer.name);
  private readonly firstCall = new FirstMessageDeadline(() => this.binding.refusals);
  private serving?: MtlsServing;
  /** Calls being handled. */
  private inFlight = 0;
  private readonly tlsServer: TlsServer;
  private readonly listenAddress: GrpcListenAddress;
  /**
   * Admitted connections by the name grpc-js gives their calls' peer
   * (`address:port`). Two live connections can share a name (Linux lets one
   * client address and port connect to two of our local addresses): a call
   * whose name is shared is registered with neither, so the guard refuses it,
   * never judging it by the other connection's certificate.
   */
  private readonly connections = new Map<string, TLSSocket[]>();
  /** Every TCP connection, also before its handshake finished. */
  private readonly rawSockets = new Set<Socket>();
  private injector?: ConnectionInjector;
  private readonly mtlsLogger = new Logger(MtlsGrpcServer.name);

  constructor(serving: MtlsServing, options: MtlsGrpcServerOptions) {
    if (options && 'credentials' in options) throw new MtlsConfigError(MtlsGrpcServer.name, 'do not pass credentials; MtlsModule supplies the TLS material');
    super(options);
    this.listenAddress = grpcListenAddress(this.url);
    // Fail-closed until the material is installed; ALPN h2 only (gRPC is HTTP/2): a client offering only other
    // protocols fails the handshake, one offering none is closed right after it (see admit).
    this.tlsServer = createServer({ ...failClosedServerOptions(), ALPNProtocols: ['h2'] });
    this.tlsServer.prependListener('connection', (raw: Socket) => {
      this.rawSockets.add(raw);
      raw.once('close', () => this.rawSockets.delete(raw));
    });
    if (isMtlsServing(serving)) {
      this.binding.install(this.tlsServer, serving);
      this.serving = serving;
    }
    // Runs once the revocation gate admitted the connection.
    this.tlsServer.on('secureConnection', (socket: TLSSocket) => this.admit(socket));
  }

  /** The address the TLS server listens on (with the port the system chose for port 0); undefined before `listen`. */
  address(): AddressInfo | undefined {
    const address = this.tlsServer.address();
    return address && typeof address === 'object' ? address : undefined;
  }

  /** Listens once the material is installed; otherwise calls back with MtlsConfigError and does not listen. */
  override async listen(callback: (err?: unknown, ...optionalParams: unknown[]) => void): Promise<void> {
    if (!this.binding.installed) {
      callback(
        new MtlsConfigError(
          MtlsGrpcServer.name,
          "no MtlsModule material: construct it with the application's MtlsServing (new MtlsGrpcServer(app.get(MtlsServing), options)), or use mtlsGrpcMicroservice(options)",
        ),
      );
      return;
    }
    return super.listen(callback);
  }

  /**
   * The grpc-js server, as Nest makes it (message limits, keepalive,
   * channel options), but bound to nothing: its connections come from our
   * TLS server. Its services register each call with its connection.
   */
  override async createClient(): Promise<GrpcServer> {
    const nest = this as unknown as { options: GrpcOptions['options']; getKeepaliveOptions(): object };
    const options: Record<string, unknown> = { ...(nest.options.channelOptions ?? {}) };
    if (nest.options.maxSendMessageLength) options['grpc.max_send_message_length'] = nest.options.maxSendMessageLength;
    if (nest.options.maxReceiveMessageLength) options['grpc.max_receive_message_length'] = nest.options.maxReceiveMessageLength;
    if (nest.options.maxMetadataSize) options['grpc.max_metadata_size'] = nest.options.maxMetadataSize;
    const server = new GrpcServer({ ...options, ...nest.getKeepaliveOptions() });
    const addService = server.addService.bind(server);
    server.addService = (service, implementation) => addService(service, this.registeringCalls(implementation));
    this.injector = server.createConnectionInjector(ServerCredentials.createInsecure());
    return server;
  }

  /** Registers the services (Nest's start), then listens: no call arrives before its service is there. */
  override async start(callback?: () => void): Promise<void> {
    await this.bindEvents();
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new MtlsConfigError('url', `gRPC server cannot listen on ${this.url}: ${err.message}`));
      this.tlsServer.once('error', onError);
      this.tlsServer.listen(this.listenAddress.port, this.listenAddress.host, () => {
        this.tlsServer.off('error', onError);
        const bound = this.address();
        this.mtlsLogger.log(`gRPC over mutual TLS listening on ${bound ? `${bound.address}:${bound.port}` : this.url}`);
        resolve();
      });
    });
    callback?.();
  }

  /** A service's handlers, each registering its call with the call's TLS connection first. */
  private registeringCalls(implementation: UntypedServiceImplementation): UntypedServiceImplementation {
    const wrapped: UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(implementation)) {
      if (typeof handler !== 'function') {
        wrapped[name] = handler;
        continue;
      }
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handler keeps grpc-js's `this`
      const server = this;
      wrapped[name] = function registered(this: unknown, call: PeerNamedCall & object, ...rest: unknown[]) {
        const named = typeof call?.getPeer === 'function' ? server.connections.get(call.getPeer()) : undefined;
        const socket = named?.length === 1 ? named[0] : undefined;
        if (socket && !socket.destroyed) {
          rememberCallConnection(call, socket);
          server.firstCall.stop(socket);
        }
        server.countCall(call, rest);
        return (handler as (...args: unknown[]) => unknown).call(this, call, ...rest);
      } as typeof handler;
    }
    return wrapped;
  }

  /** Counts a call as in flight until it is answered (its callback, for unary and client-streaming calls) or its stream closes. */
  private countCall(call: PeerNamedCall, rest: unknown[]): void {
    this.inFlight++;
    let done = false;
    const finished = () => {
      if (done) return;
      done = true;
      this.inFlight--;
    };
    if (typeof rest[0] === 'function') {
      const callback = rest[0] as (...args: unknown[]) => unknown;
      rest[0] = (...args: unknown[]) => {
        finished();
        return callback(...args);
      };
    }
    call.once?.('close', finished);
  }

  /** An admitted connection: known by the peer name its calls carry, then handed to grpc-js. */
  private admit(socket: TLSSocket): void {
    if (!this.injector || socket.destroyed) {
      socket.destroy();
      return;
    }
    if (socket.alpnProtocol !== 'h2') {
      // A client that offered no ALPN at all (one offering others fails the handshake): gRPC is HTTP/2 only.
      this.binding.refusals?.record({ stage: 'connection', peer: peerAddressOf(socket), reason: 'protocol', detail: 'no ALPN protocol agreed: gRPC needs h2' });
      socket.destroy();
      return;
    }
    // grpc-js names a call's peer from the connection the same way (ServerInterceptingCall.getPeer).
    const peer = socket.remotePort ? `${socket.remoteAddress}:${socket.remotePort}` : String(socket.remoteAddress);
    const named = this.connections.get(peer);
    if (named) named.push(socket);
    else this.connections.set(peer, [socket]);
    socket.once('close', () => {
      const left = this.connections.get(peer)?.filter((s) => s !== socket) ?? [];
      if (left.length > 0) this.connections.set(peer, left);
      else this.connections.delete(peer);
    });
    socket.on('error', () => undefined); // the refusal log and grpc-js report what matters; an unhandled error would crash
    if (this.serving) this.firstCall.start(socket, this.serving.source.current().options.requestHeaderTimeoutMs);
    this.injector.injectConnection(socket);
  }

  /** Graceful shutdown: see the class comment. */
  async [MTLS_DRAIN](deadline: number): Promise<DrainOutcome> {
    const address = this.address();
    const listener = address ? `grpc ${address.address}:${address.port}` : 'grpc';
    const inFlight = this.inFlight;
    const closed = new Promise<void>((resolve) => (this.tlsServer.listening ? this.tlsServer.close(() => resolve()) : resolve()));
    const admitted = new Set<Socket>(this.admitted().map((s) => (s as TLSSocket & { _parent?: Socket })._parent ?? s));
    for (const raw of this.rawSockets) if (!admitted.has(raw)) raw.destroy(); // a handshake in progress
    const grpc = this.grpcClient as GrpcServer | null | undefined;
    // grpc-js sends each session a GOAWAY and calls back once their calls have ended.
    const drained = grpc ? new Promise<void>((resolve) => grpc.tryShutdown(() => resolve())) : Promise.resolve();
    if (!(await untilDeadline(Promise.all([drained, closed]), deadline))) return { listener, inFlight, cut: 0 };
    const left = this.admitted();
    grpc?.forceShutdown();
    for (const socket of left) socket.destroy();
    for (const raw of this.rawSockets) raw.destroy();
    await untilDeadline(closed, Date.now() + 1000);
    return { listener, inFlight, cut: left.length };
  }

  /** Every admitted connection still open. */
  private admitted(): TLSSocket[] {
    return [...this.connections.values()].flat();
  }

  /** Stops listening, closes every connection and the grpc-js server, and stops following material changes. */
  override async close(): Promise<void> {
    this.binding.close();
    const closed = new Promise<void>((resolve) => (this.tlsServer.listening ? this.tlsServer.close(() => resolve()) : resolve()));
    for (const raw of this.rawSockets) raw.destroy();
    for (const socket of this.admitted()) socket.destroy();
    this.injector?.destroy();
    await super.close();
    await closed;
  }
}
