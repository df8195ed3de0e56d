import { Module, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DiscoveryModule, ModuleRef } from '@nestjs/core';
import { MtlsHttpClient } from './client/mtls-http-client';
import { MtlsOutboundAgent } from './client/outbound-agent';
import type { MtlsOptions } from './config/mtls-options.interface';
import { MtlsMaterialSource } from './material/material-source';
import { MaterialReloadTriggers } from './material/reload-triggers';
import { MtlsRevocation } from './revocation/mtls-revocation';
import { revocationFollowing } from './revocation/revocation-provider';
import { MtlsServing, mtlsServing } from './server/mtls-serving';
import { MtlsDrainRegistry } from './shutdown/drain-registry';
import { MtlsEvents } from './telemetry/mtls-events';
import { MTLS_MODULE_OPTIONS, MtlsConfigurableModule } from './mtls.module-definition';
import { MTLS_OPTIONS_VIEW } from './inject-mtls-options';
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
 * (certificate rotation without restart). Provides MtlsMaterialSource,
 * MtlsEvents, MtlsServing (what a TCP transport made by hand serves with),
 * the revocation checks, ClientCertGuard (with
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
    {
      // Made right after the source, so it follows each new snapshot before any endpoint swaps it in.
      provide: MtlsRevocation,
      useFactory: (source: MtlsMaterialSource, options: MtlsOptions) => revocationFollowing(source, options),
      inject: [MtlsMaterialSource, MTLS_MODULE_OPTIONS],
    },
    {
      provide: MtlsEvents,
      useFactory: (revocation: MtlsRevocation) => eventsOf(revocation),
      inject: [MtlsRevocation],
    },
    {
      provide: MaterialReloadTriggers,
      useFactory: (source: MtlsMaterialSource, options: MtlsOptions) => new MaterialReloadTriggers(source, options),
      inject: [MtlsMaterialSource, MTLS_MODULE_OPTIONS],
    },
    MtlsDrainRegistry,
    // The options in force without the secrets (@InjectMtlsOptions()): the same for every snapshot of the source.
    { provide: MTLS_OPTIONS_VIEW, useFactory: (source: MtlsMaterialSource) => source.current().options, inject: [MtlsMaterialSource] },
    {
      provide: MtlsServing,
      useFactory: (source: MtlsMaterialSource, events: MtlsEvents, revocation: MtlsRevocation) => mtlsServing(source, events, revocation),
      inject: [MtlsMaterialSource, MtlsEvents, MtlsRevocation],
    },
    MtlsEndpointInstaller,
    { provide: MtlsOutboundAgent, useFactory: (source: MtlsMaterialSource) => MtlsOutboundAgent.of(source), inject: [MtlsMaterialSource] },
    MtlsHttpClient,
    MtlsIdentitySource,
    ForwardedHeaderFilter,
    MtlsPolicyInventory,
    MtlsDnPatternCheck,
    ClientCertGuard,
  ],
  exports: [MtlsMaterialSource, MtlsEvents, MtlsServing, MTLS_OPTIONS_VIEW, MtlsDrainRegistry, MtlsHttpClient, MtlsIdentitySource, MtlsPolicyInventory, ClientCertGuard],
})
export class MtlsModule extends MtlsConfigurableModule implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  /** Its providers are found through `moduleRef` (some are internal to nest-mtls, and a public constructor names none of them). */
  constructor(private readonly moduleRef: ModuleRef) {
    super();
  }

  /** Material follows its files (or source) from now on: watch, SIGHUP, reloadIntervalMs, the source's changes. */
  onModuleInit(): void {
    this.moduleRef.get(MaterialReloadTriggers).start();
  }

  onApplicationBootstrap(): void {
    this.moduleRef.get(MaterialReloadTriggers).warnOnSighupConflict();
  }

  onModuleDestroy(): void {
    this.moduleRef.get(MaterialReloadTriggers).close();
    this.moduleRef.get(MtlsMaterialSource).close();
    this.moduleRef.get(MtlsRevocation).close();
    this.moduleRef.get(MtlsEvents).complete();
  }
}

/** The application's event streams; the revocation checks report into them. */
function eventsOf(revocation: MtlsRevocation): MtlsEvents {
  const events = new MtlsEvents();
  revocation.checks.subscribe((check) => events.revocationChecks.next(check));
  return events;
}
