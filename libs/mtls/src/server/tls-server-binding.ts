import { Logger } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { SecureContextOptions, Server as TlsServer, TLSSocket } from 'node:tls';
import { logLine } from '../logging/log-line';
import { peerAddressOf } from '../logging/peer-address';
import type { MtlsEvents } from '../telemetry/mtls-events';
import { groupLabel, tlsConnectionOf } from '../telemetry/tls-connection';
import { MtlsConfigError } from '../errors/mtls-config.error';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import { secureContextOf } from '../material/snapshot-secrets';
import { revocationOf, type MtlsServing } from './mtls-serving';
import { hardenTlsServer } from './harden-tls-server';
import { installRevocationGate, runsBeforeRevocationGate } from './revocation-gate';
import type { TlsRefusalLog } from './tls-refusal-log';

/**
 * What a TLS endpoint (an HTTP adapter, a TCP transport) does with the
 * material MtlsModule hands it: checks that our certificate may serve,
 * applies the client-certificate demands and the hardening to the server,
 * installs the revocation gate (every connection, resumed ones included, is
 * judged right after its handshake, before the application reads from it),
 * installs the secure context, and swaps in every later one. Until then the
 * server stays fail-closed and `assertInstalled()` refuses to listen.
 */
export class TlsServerBinding {
  private subscription?: Subscription;
  private installedFrom?: MtlsServing;
  /** The refusal log of the server, once installed (metrics count refusals here). */
  refusals?: TlsRefusalLog;

  constructor(
    /** The endpoint's name for messages, e.g. `MtlsExpressAdapter`. */
    private readonly endpoint: string,
    private readonly logger = new Logger('MtlsServer'),
  ) {}

  /** Installs the current material of `serving` into `server` and follows every change of its source. */
  install(server: TlsServer, serving: MtlsServing): void {
    if (this.installedFrom === serving) return;
    if (this.installedFrom) throw new MtlsConfigError(this.endpoint, 'is already serving the material of another MtlsModule; use one adapter per application');
    const { source, events } = serving;
    source.requireRole('serverAuth');
    const snapshot = source.current();
    const { options } = snapshot;
    const context = secureContextFor(this.endpoint, snapshot);
    applyClientCertificateDemands(server, options);
    server.setSecureContext(context);
    this.refusals = hardenTlsServer(server, options);
    this.refusals.onRefusal((refusal) => events.refusals.next(refusal));
    this.reportHandshakes(server, events);
    installRevocationGate(server, revocationOf(serving), this.refusals, this.logger);
    this.subscription = source.changes.subscribe((next) => {
      server.setSecureContext(secureContextOf(next));
      this.logger.log(`${this.endpoint}: new handshakes use material generation ${next.generation}`);
    });
    this.installedFrom = serving;
  }

  /**
   * Each completed handshake: counted by its key-exchange group
   * (`events.counts`, for metrics); its protocol, suite and group, read once
   * per connection, go to `events.handshakes` when someone listens, and to
   * one debug line when debug is on.
   */
  private reportHandshakes(server: TlsServer, events: MtlsEvents): void {
    server.on('secureConnection', runsBeforeRevocationGate((socket: TLSSocket) => {
      const info = tlsConnectionOf(socket);
      if (!info) return;
      events.counts.handshake(groupLabel(info.keyExchangeGroup));
      const told = events.handshakes.observed;
      const debug = Logger.isLevelEnabled('debug');
      if (!told && !debug) return;
      const peer = peerAddressOf(socket);
      if (told) events.handshakes.next({ peer, ...info });
      if (!debug) return;
      logLine(this.logger, 'debug', `TLS handshake from ${peer}: ${info.protocol} ${info.cipher}, key exchange ${info.keyExchangeGroup}${socket.isSessionReused() ? ' (resumed session)' : ''}`, {
        event: 'tls_handshake',
        peer,
        protocol: info.protocol,
        cipher: info.cipher,
        group: info.keyExchangeGroup,
      });
    }));
  }

  /** Throws unless MtlsModule installed its material: the endpoint never serves without it. */
  assertInstalled(): void {
    if (!this.installedFrom) {
      throw new MtlsConfigError(
        this.endpoint,
        'no MtlsModule material was installed: import MtlsModule.forRoot() or forRootAsync() in the application, and let the application initialise (app.init() or app.listen()) before serving',
      );
    }
  }

  get installed(): boolean {
    return this.installedFrom !== undefined;
  }

  /** Stops following changes. */
  close(): void {
    this.subscription?.unsubscribe();
    this.refusals?.flush();
  }
}

/** The secure context options of `snapshot`; material of another copy of nest-mtls cannot be served (its key never leaves that copy). */
function secureContextFor(endpoint: string, snapshot: MtlsMaterialSnapshot): SecureContextOptions {
  try {
    return secureContextOf(snapshot);
  } catch {
    throw new MtlsConfigError(endpoint, 'the material comes from another copy of nest-mtls (no copy hands its private key to another): install one copy of nest-mtls, or import the adapter and MtlsModule from the same one');
  }
}

/**
 * requestCert and rejectUnauthorized are read from the server object for each
 * new connection; the handshake timeout likewise, from a symbol-keyed field
 * Node sets from the `handshakeTimeout` option (there is no setter for it).
 */
function applyClientCertificateDemands(server: TlsServer, options: ResolvedMtlsOptions): void {
  const target = server as TlsServer & { requestCert: boolean; rejectUnauthorized: boolean };
  target.requestCert = true;
  // validatePeers: false turns revocation checking off, never chain verification (see checkValidatePeers).
  target.rejectUnauthorized = options.needClientAuth;
  const key = Object.getOwnPropertySymbols(server).find((s) => s.description === 'handshake-timeout');
  if (!key) throw new MtlsConfigError('handshakeTimeoutMs', `this Node version (${process.version}) offers no way to set the handshake timeout of a running server`);
  (server as unknown as Record<symbol, number>)[key] = options.handshakeTimeoutMs;
}
