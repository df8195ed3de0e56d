import { ServerTCP, type TcpOptions } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { MtlsConfigError } from '../config/mtls-config.error';
import type { MtlsMaterialSource } from '../material/material-source';
import { failClosedServerOptions } from '../server/fail-closed-server-options';
import { TlsServerBinding } from '../server/tls-server-binding';
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
 */
export class MtlsTcpServer extends ServerTCP {
  private readonly binding = new TlsServerBinding(MtlsTcpServer.name);
  private readonly firstMessage = new FirstMessageDeadline(() => this.binding.refusals);
  private readonly source?: MtlsMaterialSource;

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
  override handleMessage(socket: Parameters<ServerTCP['handleMessage']>[0], rawMessage: unknown): Promise<unknown> {
    this.firstMessage.stop((socket as FramingSocket).netSocket);
    return super.handleMessage(socket, rawMessage);
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
