import { Module, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { MtlsHttpClient } from './client/mtls-http-client';
import { MtlsOutboundAgent } from './client/outbound-agent';
import type { MtlsOptions } from './config/mtls-options.interface';
import { MtlsMaterialSource } from './material/material-source';
import { MTLS_MODULE_OPTIONS, MtlsConfigurableModule } from './mtls.module-definition';
import { ClientCertGuard } from './policy/client-cert.guard';
import { MtlsEndpointInstaller } from './server/mtls-endpoint-installer';

/**
 * Mutual TLS for a Nest application.
 *
 *     MtlsModule.forRoot({ keyStorePath, keyStorePassword, trustStorePath })
 *     MtlsModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => mtlsOptionsFromEnv(c) })
 *
 * Validates the options and reads every file while Nest builds the module
 * graph (a bad setting stops the app before it listens) into the
 * application's MtlsMaterialSource; when the application initialises, it
 * installs that material into the TLS endpoint (MtlsExpressAdapter,
 * MtlsFastifyAdapter from nest-mtls/fastify), the same
 * under NestFactory and @nestjs/testing, and starts following the files
 * (certificate rotation without restart). Provides ClientCertGuard and
 * MtlsHttpClient. Global unless `isGlobal: false`.
 */
@Module({
  providers: [
    {
      provide: MtlsMaterialSource,
      useFactory: (options: MtlsOptions) => MtlsMaterialSource.create(options),
      inject: [MTLS_MODULE_OPTIONS],
    },
    MtlsEndpointInstaller,
    MtlsOutboundAgent,
    MtlsHttpClient,
    ClientCertGuard,
  ],
  exports: [MtlsMaterialSource, MtlsHttpClient, ClientCertGuard],
})
export class MtlsModule extends MtlsConfigurableModule implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  constructor(private readonly source: MtlsMaterialSource) {
    super();
  }

  /** Material follows the files from now on: watch, SIGHUP, reloadIntervalMs. */
  onModuleInit(): void {
    this.source.startWatching();
  }

  onApplicationBootstrap(): void {
    this.source.warnOnSighupConflict();
  }

  onModuleDestroy(): void {
    this.source.close();
  }
}
