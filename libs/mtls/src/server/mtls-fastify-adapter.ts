import type { NestApplicationOptions } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createServer, type Server as HttpsServer } from 'node:https';
import type { RequestListener } from 'node:http';
import type { Server as TlsServer } from 'node:tls';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { failClosedServerOptions } from './fail-closed-server-options';
import { createMtlsHttp2Server, resolveHttp2Options, type FastifyServerTimeouts, type Http2Settings, type MtlsFastifyHttp2Options } from './http2-server';
import { MTLS_ENDPOINT, type MtlsEndpoint } from './mtls-endpoint';
import type { MtlsServing } from './mtls-serving';
import { TlsServerBinding } from './tls-server-binding';
import { HttpServerDrain } from '../shutdown/http-drain';

export type { MtlsFastifyHttp2Options } from './http2-server';

/**
 * Options of MtlsFastifyAdapter: Fastify's server options and FastifyAdapter's
 * own (`skipMiddie`, `multipart`, `logger`, `bodyLimit`, timeouts, router
 * options, ...), except the ones that would make a server of their own
 * (`https`, `http`, `serverFactory`): the server is the adapter's, and
 * MtlsModule supplies its TLS material; and `requestTimeout`, which is
 * MtlsModule's `requestTimeoutMs` on both adapters. `http2` serves HTTP/2
 * (with HTTP/1.1 on the same port unless told otherwise).
 */
export type MtlsFastifyAdapterOptions = Omit<
  // The options object FastifyAdapter takes for an HTTPS server (written out: the declarations name no type of ours that is not exported).
  Extract<NonNullable<ConstructorParameters<typeof FastifyAdapter>[0]>, { https: unknown }>,
  'https' | 'http' | 'http2' | 'http2SessionTimeout' | 'serverFactory' | 'requestTimeout'
> & {
  /**
   * Serve HTTP/2 over TLS (ALPN `h2`), and HTTP/1.1 on the same port to
   * clients that do not offer `h2` (default false: HTTPS with HTTP/1.1).
   * `true`, or settings: `{ allowHTTP1: false }` for HTTP/2 only,
   * `{ maxConcurrentStreams }` (default 100). The same mutual TLS, guard,
   * revocation, reload and refusals as HTTP/1.1; the identity is judged once
   * per session.
   */
  http2?: boolean | MtlsFastifyHttp2Options;
  /** With `http2`: an HTTP/2 session idle this long (ms) is closed (Fastify's option; default 72000). */
  http2SessionTimeout?: number;
};

/** Options that would give Fastify a server other than ours. */
const OWN_SERVER_OPTIONS = ['https', 'http', 'serverFactory'] as const;

/** Fastify options MtlsModule sets, so that Express and Fastify serve alike: the option to use instead. */
const MODULE_OPTIONS: Record<string, string> = { requestTimeout: 'requestTimeoutMs (MTLS_REQUEST_TIMEOUT_MS)' };

/**
 * Fastify adapter that serves mutual TLS with the material of MtlsModule; the
 * contract of MtlsExpressAdapter, on Fastify (`nest-mtls/fastify`, with
 * `@nestjs/platform-fastify` installed).
 *
 *     const app = await NestFactory.create<NestFastifyApplication>(AppModule, new MtlsFastifyAdapter());
 *     // or, in tests: moduleRef.createNestApplication(new MtlsFastifyAdapter())
 *
 *     // HTTP/2 (ALPN h2) and HTTP/1.1 on the same port:
 *     new MtlsFastifyAdapter({ http2: true })
 *
 * Fastify makes its server when the adapter is constructed, before any module
 * runs: that server is an HTTPS (or, with `http2`, an HTTP/2) server created fail-closed (client
 * certificates demanded, no certificate of its own), through Fastify's
 * `serverFactory`, so that Fastify never makes another one (it binds extra
 * servers for `localhost` otherwise, which would not get the material).
 * MtlsModule installs its material when the application initialises, and
 * every later change (rotation); `listen()` refuses until then: the adapter
 * never serves without MtlsModule, and never falls back to plain HTTP.
 */
export class MtlsFastifyAdapter extends FastifyAdapter<HttpsServer> implements MtlsEndpoint {
  private readonly binding = new TlsServerBinding(MtlsFastifyAdapter.name);

  constructor(options: MtlsFastifyAdapterOptions = {}) {
    if (typeof options !== 'object' || options === null || 'server' in options) {
      throw new MtlsConfigError(MtlsFastifyAdapter.name, 'takes Fastify server options, not a Fastify instance: the HTTPS server must be the one the adapter makes');
    }
    for (const key of OWN_SERVER_OPTIONS) {
      if ((options as Record<string, unknown>)[key] !== undefined) {
        throw new MtlsConfigError(MtlsFastifyAdapter.name, `do not pass "${key}" to MtlsFastifyAdapter; it serves HTTPS with the material MtlsModule supplies`);
      }
    }
    for (const [key, instead] of Object.entries(MODULE_OPTIONS)) {
      if ((options as Record<string, unknown>)[key] !== undefined) {
        throw new MtlsConfigError(MtlsFastifyAdapter.name, `do not pass "${key}" to MtlsFastifyAdapter; set MtlsModule's ${instead}, which both adapters apply`);
      }
    }
    const { http2: http2Option, ...fastifyOptions } = options;
    let http2: Http2Settings | undefined;
    try {
      http2 = resolveHttp2Options(http2Option);
    } catch (err) {
      throw err instanceof MtlsConfigError ? new MtlsConfigError(`${MtlsFastifyAdapter.name} ${err.setting}`, err.problem) : err;
    }
    if (!http2 && fastifyOptions.http2SessionTimeout !== undefined) {
      throw new MtlsConfigError(MtlsFastifyAdapter.name, 'http2SessionTimeout applies to HTTP/2 sessions: set http2: true too, or leave it out');
    }
    const serverFactory = (handler: RequestListener, timeouts: FastifyServerTimeouts) => (http2 ? createMtlsHttp2Server(handler, http2, timeouts) : mtlsHttpsServer(handler, timeouts));
    super({ ...fastifyOptions, serverFactory } as unknown as ConstructorParameters<typeof FastifyAdapter<HttpsServer>>[0]);
  }

  /** Refuses `httpsOptions`. (`options` optional: @nestjs/platform-fastify 12.0 declares none, later 12.x one.) */
  override initHttpServer(options?: NestApplicationOptions): void {
    if (options?.httpsOptions) {
      throw new MtlsConfigError(MtlsFastifyAdapter.name, 'do not pass httpsOptions to NestFactory.create; MtlsModule supplies them');
    }
    super.initHttpServer(options);
  }

  /** Called by MtlsModule when the application initialises. */
  [MTLS_ENDPOINT](serving: MtlsServing): void {
    this.binding.install(this.getHttpServer<TlsServer>(), serving);
    // Requests are tracked from the start, so a graceful shutdown (however it is started) finds those in flight.
    HttpServerDrain.of(this.getHttpServer(), 'https');
  }

  /**
   * Listens once MtlsModule installed its material; throws MtlsConfigError otherwise.
   * The overloads are FastifyAdapter's: the one with `backlog` is new in
   * @nestjs/platform-fastify 12.6 and harmless to older ones (declaring it keeps
   * this class assignable to both).
   */
  override listen(port: string | number, callback?: () => void): void;
  override listen(port: string | number, hostname: string, callback?: () => void): void;
  override listen(port: string | number, hostname: string, backlog: number, callback?: () => void): void;
  override listen(port: string | number, ...args: unknown[]): void {
    this.binding.assertInstalled();
    (super.listen as (...a: unknown[]) => void)(port, ...args);
  }

  /** Closes the server. (`Promise<undefined>`: what @nestjs/platform-fastify 12.0 declares, assignable to later 12.x's `Promise<void>`.) */
  override async close(): Promise<undefined> {
    this.binding.close();
    await super.close();
    return undefined;
  }
}

/**
 * The one HTTPS server of the application (Fastify's `serverFactory`), made
 * fail-closed, with the timeouts Fastify sets on a server it makes itself,
 * except the whole-request deadline (Fastify's is none): MtlsModule sets
 * `requestTimeoutMs` when it installs its material.
 */
function mtlsHttpsServer(handler: RequestListener, fastifyOptions: FastifyServerTimeouts): HttpsServer {
  const server = createServer(failClosedServerOptions(), handler);
  if (fastifyOptions.keepAliveTimeout !== undefined) server.keepAliveTimeout = fastifyOptions.keepAliveTimeout;
  if (fastifyOptions.connectionTimeout !== undefined) server.setTimeout(fastifyOptions.connectionTimeout);
  if (fastifyOptions.maxRequestsPerSocket !== undefined && fastifyOptions.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = fastifyOptions.maxRequestsPerSocket;
  return server;
}
