import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MtlsAdminServer } from './admin-server';
import { MtlsAdminConfigurableModule } from './mtls-admin.module-definition';
import { MtlsHealth } from './mtls-health';
import { MtlsMetrics } from './mtls-metrics';

/**
 * The admin port of a service that uses MtlsModule: plain HTTP on a port of
 * its own with terminus health (`/health`, `/health/live`) and prom-client
 * metrics (`/metrics`) about its mutual TLS, like Dropwizard's admin
 * connector on 8081. Probes and scrapers present no client certificate, so
 * it is separate from the mTLS port; bind it to 127.0.0.1 (the default) or
 * to the pod network only.
 *
 *     imports: [
 *       MtlsModule.forRootAsync({ ... }),
 *       MtlsAdminModule.forRoot({ port: 8081 }),
 *       // or from ADMIN_PORT, ADMIN_HOST, MTLS_EXPIRY_WARNING_DAYS:
 *       MtlsAdminModule.forRootAsync({ inject: [ConfigService], useFactory: (c: ConfigService) => mtlsAdminOptionsFromEnv(c) }),
 *     ]
 *
 * Needs the application's MtlsModule (its MtlsMaterialSource), and the
 * optional peers @nestjs/terminus and prom-client. Provides MtlsHealth,
 * MtlsMetrics (a registry per application) and MtlsAdminServer.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  providers: [MtlsMetrics, MtlsHealth, MtlsAdminServer],
  exports: [MtlsMetrics, MtlsHealth, MtlsAdminServer],
})
export class MtlsAdminModule extends MtlsAdminConfigurableModule {}
