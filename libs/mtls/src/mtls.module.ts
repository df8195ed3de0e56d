import { Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MtlsHttpClient } from './client/mtls-http-client';
import type { MtlsOptions } from './config/mtls-options.interface';
import { MtlsContext } from './mtls-context';
import { MTLS_MODULE_OPTIONS, MtlsConfigurableModule } from './mtls.module-definition';
import { ClientCertGuard } from './policy/client-cert.guard';
import { MtlsExpressAdapter } from './server/mtls-express-adapter';

/** Hands the loaded material to MtlsExpressAdapter, if the app uses it, before Nest creates the server. */
const ADAPTER_BINDING = Symbol('MTLS_ADAPTER_BINDING');

/**
 * Mutual TLS for a Nest application.
 *
 *     MtlsModule.forRoot({ keyStorePath, keyStorePassword, trustStorePath })
 *     MtlsModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => mtlsOptionsFromEnv(c) })
 *
 * Validates the options and reads every file once while Nest builds the
 * module graph (a bad setting stops the app before it listens), then feeds
 * MtlsExpressAdapter (the HTTPS server), ClientCertGuard and MtlsHttpClient.
 */
@Module({
  providers: [
    {
      provide: MtlsContext,
      useFactory: (options: MtlsOptions) => MtlsContext.create(options),
      inject: [MTLS_MODULE_OPTIONS],
    },
    {
      provide: ADAPTER_BINDING,
      useFactory: (host: HttpAdapterHost, context: MtlsContext) => {
        if (host.httpAdapter instanceof MtlsExpressAdapter) host.httpAdapter.useMtlsContext(context);
        return true;
      },
      inject: [HttpAdapterHost, MtlsContext],
    },
    MtlsHttpClient,
    ClientCertGuard,
  ],
  exports: [MtlsContext, MtlsHttpClient, ClientCertGuard],
})
export class MtlsModule extends MtlsConfigurableModule {}
