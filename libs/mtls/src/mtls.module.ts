import { Module, type OnApplicationShutdown } from '@nestjs/common';
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
 * installs that material into the TLS endpoint (MtlsExpressAdapter), the same
 * under NestFactory and @nestjs/testing. Provides ClientCertGuard and
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
export class MtlsModule extends MtlsConfigurableModule implements OnApplicationShutdown {
  constructor(private readonly source: MtlsMaterialSource) {
    super();
  }

  onApplicationShutdown(): void {
    this.source.close();
  }
}
