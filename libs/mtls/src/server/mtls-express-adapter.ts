import type { NestApplicationOptions } from '@nestjs/common';
import type { HttpsOptions } from '@nestjs/common/interfaces/external/https-options.interface';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Server as TlsServer } from 'node:tls';
import { withEnvVariable } from '../config/env-origin';
import { MtlsConfigError } from '../config/mtls-config.error';
import type { MtlsContext } from '../mtls-context';
import { hardenTlsServer } from './harden-tls-server';
import { assertExtendedKeyUsage } from './startup-checks';
import { tlsServerOptions } from './tls-server-options';

/**
 * Express adapter that serves mutual TLS with the material of MtlsModule.
 *
 *     const app = await NestFactory.create(AppModule, new MtlsExpressAdapter());
 *
 * Nest resolves the module's providers (MtlsModule.forRoot / forRootAsync, with
 * ConfigService if you like) before it asks the adapter for its server, so the
 * TLS options are written once, in the module, and feed the server here.
 * Without MtlsModule in the application the adapter refuses to start: it never
 * falls back to plain HTTP.
 */
export class MtlsExpressAdapter extends ExpressAdapter {
  private context?: MtlsContext;

  constructor(...args: ConstructorParameters<typeof ExpressAdapter>) {
    super(...args);
    // Callers authenticate with certificates; they need not learn the framework.
    this.getInstance().disable('x-powered-by');
  }

  /** Called by MtlsModule while Nest builds the module graph. */
  useMtlsContext(context: MtlsContext): void {
    this.context = context;
  }

  override initHttpServer(options: NestApplicationOptions): void {
    if (!this.context) {
      throw new MtlsConfigError('MtlsExpressAdapter', 'no MtlsModule in the application; import MtlsModule.forRoot() or forRootAsync() in the root module');
    }
    if (options?.httpsOptions) {
      throw new MtlsConfigError('MtlsExpressAdapter', 'do not pass httpsOptions to NestFactory.create; MtlsModule supplies them');
    }
    try {
      assertExtendedKeyUsage(this.context.material, 'serverAuth', this.context.options.keyStorePath ? 'keyStorePath' : 'certPath');
    } catch (err) {
      throw withEnvVariable(err, this.context.options); // names MTLS_* too when the value came from there
    }
    super.initHttpServer({ ...options, httpsOptions: tlsServerOptions(this.context.material, this.context.options) as HttpsOptions });
    hardenTlsServer(this.getHttpServer() as TlsServer, this.context.options);
  }
}
