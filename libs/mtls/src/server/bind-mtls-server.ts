import type { INestApplicationContext } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { MtlsConfigError } from '../errors/mtls-config.error';
import type { ClientIdentity } from '../identity/client-identity.interface';
import { peerIdentity } from '../identity/peer-identity';
import { MtlsDrainRegistry } from '../shutdown/drain-registry';
import { HttpServerDrain } from '../shutdown/http-drain';
import { MtlsServing } from './mtls-serving';
import { TlsServerBinding } from './tls-server-binding';

/** A server bound by {@link bindMtlsServer}. */
export interface MtlsServerBinding {
  /**
   * The verified client certificate's identity of a connection of the
   * server (`req.socket` on an HTTPS server), DNs in the module's
   * `dnFormat`; undefined when it presented none (want mode) or it is not
   * one of the server's TLS connections. Parsed once per connection.
   */
  identity(socket: Socket): ClientIdentity | undefined;
  /** Stops following material changes and leaves graceful shutdown's list; the server itself stays as it is (close it yourself). */
  unbind(): void;
}

const bound = new WeakSet<TlsServer>();

/**
 * Serves the application's mutual TLS on a TLS or HTTPS server you made
 * yourself (`https.createServer(handler)`, `tls.createServer()`, a server
 * another library made), as MtlsExpressAdapter does for Nest's own: our
 * certificate (it must allow serverAuth) and every later one after a
 * rotation, client certificates demanded (`needClientAuth`) and verified
 * against our trust store only, protocols and ciphers, the handshake
 * timeout, renegotiation refused, the refusal log and `MtlsEvents`, and the
 * revocation gate (each connection judged right after its handshake, before
 * your handler reads from it). An HTTPS server is drained by
 * `enableGracefulShutdown` / `shutdownGracefully` with the others, and gets
 * the header and request deadlines. Create the server without key or
 * certificate (no handshake can succeed before this call), bind, then listen:
 *
 *     const server = https.createServer(handler);
 *     const binding = bindMtlsServer(server, app); // app: the Nest application (or a ModuleRef) with MtlsModule
 *     server.listen(9443);
 *     // in handler: binding.identity(req.socket)?.subject
 *
 * What the guard does per route (policies, `@ClientCert()`) is Nest's: on
 * a server of your own, decide with `binding.identity(socket)`. Throws
 * MtlsConfigError when `app` has no MtlsModule, `server` is not a TLS
 * server, or it is bound already.
 */
export function bindMtlsServer(server: TlsServer, app: INestApplicationContext | ModuleRef): MtlsServerBinding {
  if (typeof (server as Partial<TlsServer> | undefined)?.setSecureContext !== 'function') {
    throw new MtlsConfigError('bindMtlsServer', 'needs a TLS server (tls.createServer, https.createServer): a plain TCP or HTTP server cannot serve mutual TLS');
  }
  if (bound.has(server)) throw new MtlsConfigError('bindMtlsServer', 'this server is bound already');
  let serving: MtlsServing;
  try {
    serving = app.get(MtlsServing, { strict: false });
  } catch {
    throw new MtlsConfigError('bindMtlsServer', 'the application has no MtlsModule: import MtlsModule.forRoot() or forRootAsync() in it, and bind once it is created');
  }
  const binding = new TlsServerBinding('bindMtlsServer');
  binding.install(server, serving);
  bound.add(server);
  let unregister: (() => void) | undefined;
  if (typeof (server as unknown as Partial<HttpServer>).closeIdleConnections === 'function') {
    const drain = HttpServerDrain.of(server as unknown as HttpServer, 'https');
    try {
      unregister = app.get(MtlsDrainRegistry, { strict: false }).register(drain);
    } catch {
      unregister = undefined; // a registry of another copy of nest-mtls: graceful shutdown does not see this server
    }
  }
  const dnFormat = serving.source.current().options.dnFormat;
  return {
    identity: (socket) => peerIdentity(socket, dnFormat),
    unbind: () => {
      binding.close();
      unregister?.();
      bound.delete(server);
    },
  };
}
