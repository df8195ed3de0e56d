import { Module, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { MtlsHttpClient } from './client/mtls-http-client';
import { MtlsOutboundAgent } from './client/outbound-agent';
import type { MtlsOptions } from './config/mtls-options.interface';
import { MtlsMaterialSource } from './material/material-source';
import { MTLS_MODULE_OPTIONS, MtlsConfigurableModule } from './mtls.module-definition';
import { MtlsIdentitySource } from './guard/identity-source';
import { ClientCertGuard } from './guard/client-cert.guard';
import { MtlsDnPatternCheck } from './guard/dn-pattern-check';
import { MtlsPolicyInventory } from './guard/policy-inventory';
import { ForwardedHeaderFilter } from './server/forwarded-header-filter';
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
 * (certificate rotation without restart). Provides ClientCertGuard (with
 * its identity source: the TLS peer, or a trusted proxy's forwarded
 * certificate), MtlsHttpClient and the policy inventory (logged at debug
 * level at startup). Global unless `isGlobal: false`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: MtlsMaterialSource,
      useFactory: (options: MtlsOptions) => MtlsMaterialSource.create(options),
      inject: [MTLS_MODULE_OPTIONS],
    },
    MtlsEndpointInstaller,
    MtlsOutboundAgent,
    MtlsHttpClient,
    MtlsIdentitySource,
    ForwardedHeaderFilter,
    MtlsPolicyInventory,
    MtlsDnPatternCheck,
    ClientCertGuard,
  ],
  exports: [MtlsMaterialSource, MtlsHttpClient, MtlsIdentitySource, MtlsPolicyInventory, ClientCertGuard],
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
