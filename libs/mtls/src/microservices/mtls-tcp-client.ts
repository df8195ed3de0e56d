import { Logger } from '@nestjs/common';
import { ClientTCP, type ClientsProviderAsyncOptions, type CustomClientOptions, type TcpClientOptions, type TcpSocket } from '@nestjs/microservices';
import type { ConnectionOptions } from 'node:tls';
import type { Subscription } from 'rxjs';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { MtlsMaterialSource } from '../material/material-source';
import { tlsOptionsOf } from './tcp-client-tls-options';

/**
 * Options of {@link MtlsTcpClient}: Nest's TCP client options (`host`,
 * `port`, framing limits, serializers) without `tlsOptions`, plus the
 * application's material source.
 */
export type MtlsTcpClientOptions = Omit<NonNullable<TcpClientOptions['options']>, 'tlsOptions'> & {
  /** The application's MtlsMaterialSource (inject it, or `app.get(MtlsMaterialSource)`). */
  source: MtlsMaterialSource;
  /** The name the server's certificate must carry (SNI and name check); default `host`. */
  servername?: string;
};

/** How often a retired connection is checked for answers still owed on it. */
const DRAIN_CHECK_MS = 250;

/**
 * Nest's TCP client (`ClientTCP`, a `ClientProxy`) over mutual TLS with the
 * application's material: presents our certificate, trusts only our trust
 * store (and CRLs), verifies the server's chain and name. Each new connection
 * reads the material in use at that moment. After a rotation the connection
 * made with the old material is not reused: the next call opens a new one
 * with the new material, and the old one is closed once the calls in flight on
 * it are answered (drained, not cut), as MtlsHttpClient does with its pool.
 *
 *     ClientsModule.registerAsync([mtlsTcpClient('USER_SERVICE', { host: 'user-service', port: 8444 })])
 *     // or: new MtlsTcpClient({ source: app.get(MtlsMaterialSource), host, port })
 *
 * Our certificate must allow clientAuth (checked when the client is made, and
 * for every later material).
 */
export class MtlsTcpClient extends ClientTCP {
  private readonly source: MtlsMaterialSource;
  private readonly servername?: string;
  private subscription?: Subscription;
  /** The material changed since the current connection was made. */
  private stale = false;
  private readonly retiring = new Set<NodeJS.Timeout>();
  private readonly mtlsLogger = new Logger(MtlsTcpClient.name);

  constructor(options: MtlsTcpClientOptions) {
    const { source, servername, ...tcp } = options ?? ({} as MtlsTcpClientOptions);
    if ('tlsOptions' in tcp) throw new MtlsConfigError(MtlsTcpClient.name, 'do not pass tlsOptions; MtlsModule supplies them');
    if (typeof (source as Partial<MtlsMaterialSource> | undefined)?.current !== 'function') {
      throw new MtlsConfigError(MtlsTcpClient.name, 'needs the application\'s MtlsMaterialSource as `source` (import MtlsModule; inject MtlsMaterialSource)');
    }
    source.requireRole('clientAuth');
    super({ ...tcp, tlsOptions: tlsOptionsOf(source.current(), servername) });
    this.source = source;
    this.servername = servername;
    this.follow();
  }

  /**
   * Called by ClientProxy before every call: a connection made with older
   * material is retired here, at the start of a call, so a call that is
   * between connecting and sending never finds the connection gone.
   */
  override connect(): Promise<unknown> {
    this.follow();
    if (this.stale) {
      this.stale = false;
      this.retireConnection();
    }
    return super.connect();
  }

  /** Opens a connection with the material in use now. */
  override createSocket(): TcpSocket {
    (this as unknown as { tlsOptions: ConnectionOptions }).tlsOptions = tlsOptionsOf(this.source.current(), this.servername);
    return super.createSocket();
  }

  /** Closes the connection and stops following material changes (until the next call). */
  override close(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.stale = false;
    for (const timer of this.retiring) clearInterval(timer);
    this.retiring.clear();
    super.close();
  }

  private follow(): void {
    this.subscription ??= this.source.changes.subscribe(() => {
      if (this.socket) this.stale = true;
    });
  }

  /**
   * This call and later ones go over a new connection (made with the new
   * material); the current one is ended once the answers owed on it have
   * arrived (or their callers gave up), never cut mid-call.
   */
  private retireConnection(): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    this.connectionPromise = null;
    const owed = [...this.routingMap.keys()];
    const pending = () => owed.filter((id) => this.routingMap.has(id));
    // Nest fails the calls of a closed connection only while it is the current one: do it for this one.
    socket.once('close', () => {
      for (const id of pending()) {
        const callback = this.routingMap.get(id);
        this.routingMap.delete(id);
        callback?.({ err: new Error('Connection closed') });
      }
    });
    if (pending().length === 0) {
      socket.end();
      return;
    }
    this.mtlsLogger.debug(`material changed: new calls use a new connection; ${owed.length} call(s) in flight finish on the old one`);
    const timer = setInterval(() => {
      if (pending().length > 0 && !socket.netSocket.destroyed) return;
      clearInterval(timer);
      this.retiring.delete(timer);
      socket.end();
    }, DRAIN_CHECK_MS);
    timer.unref();
    this.retiring.add(timer);
  }
}

/**
 * A `ClientsModule.registerAsync` entry for an {@link MtlsTcpClient} named
 * `name`, made with the application's MtlsMaterialSource:
 *
 *     ClientsModule.registerAsync([mtlsTcpClient('USER_SERVICE', { host: 'user-service', port: 8444 })])
 *     // then: constructor(@Inject('USER_SERVICE') private readonly users: ClientProxy) {}
 */
export function mtlsTcpClient(name: string | symbol, options: Omit<MtlsTcpClientOptions, 'source'>): ClientsProviderAsyncOptions {
  return {
    name,
    inject: [MtlsMaterialSource],
    useFactory: (source: MtlsMaterialSource): CustomClientOptions => ({
      // Nest's own typing: Type<ClientProxy> is invariant in the status type, so ClientTCP itself does not fit it.
      customClass: MtlsTcpClient as unknown as CustomClientOptions['customClass'],
      options: { ...options, source },
    }),
  };
}
