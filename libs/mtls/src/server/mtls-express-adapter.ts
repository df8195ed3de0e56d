import type { NestApplicationOptions } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type { HttpsOptions } from '@nestjs/common/interfaces/external/https-options.interface';
import type { Server as TlsServer } from 'node:tls';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { ExpressAdapterBase } from './express-adapter-base';
import { failClosedServerOptions } from './fail-closed-server-options';
import { MTLS_ENDPOINT, type MtlsEndpoint } from './mtls-endpoint';
import type { MtlsServing } from './mtls-serving';
import { TlsServerBinding } from './tls-server-binding';
import { HttpServerDrain } from '../shutdown/http-drain';

/**
 * Express adapter that serves mutual TLS with the material of MtlsModule.
 *
 *     const app = await NestFactory.create(AppModule, new MtlsExpressAdapter());
 *     // or, in tests: moduleRef.createNestApplication(new MtlsExpressAdapter())
 *
 * The HTTPS server is created fail-closed (client certificates demanded, no
 * certificate of its own); MtlsModule installs its material when the
 * application initialises, and every later change (rotation). `listen()`
 * refuses until then: the adapter never serves without MtlsModule, and never
 * falls back to plain HTTP.
 */
export class MtlsExpressAdapter extends ExpressAdapterBase implements MtlsEndpoint {
  private readonly binding = new TlsServerBinding(MtlsExpressAdapter.name);

  /** `instance`: an Express application of your own, as ExpressAdapter takes it (default: a new one). */
  constructor(instance?: unknown) {
    super(instance);
    // Callers authenticate with certificates; they need not learn the framework.
    this.getInstance<{ disable(setting: string): unknown }>().disable('x-powered-by');
  }

  override initHttpServer(options: NestApplicationOptions): void {
    if (options?.httpsOptions) {
      throw new MtlsConfigError(MtlsExpressAdapter.name, 'do not pass httpsOptions to NestFactory.create; MtlsModule supplies them');
    }
    super.initHttpServer({ ...options, httpsOptions: failClosedServerOptions() as HttpsOptions });
  }

  /** Called by MtlsModule when the application initialises. */
  [MTLS_ENDPOINT](serving: MtlsServing): void {
    this.binding.install(this.getHttpServer() as TlsServer, serving);
    // Requests are tracked from the start, so a graceful shutdown (however it is started) finds those in flight.
    HttpServerDrain.of(this.getHttpServer(), 'https');
  }

  /** Listens once MtlsModule installed its material; throws MtlsConfigError otherwise. */
  override listen(port: string | number, callback?: () => void): ReturnType<AbstractHttpAdapter['listen']>;
  override listen(port: string | number, hostname: string, callback?: () => void): ReturnType<AbstractHttpAdapter['listen']>;
  override listen(port: string | number, ...args: unknown[]): ReturnType<AbstractHttpAdapter['listen']> {
    this.binding.assertInstalled();
    return (super.listen as (...a: unknown[]) => ReturnType<AbstractHttpAdapter['listen']>)(port, ...args);
  }

  override async close(): Promise<unknown> {
    this.binding.close();
    return super.close();
  }
}
