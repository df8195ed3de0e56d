import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { MtlsModule, mtlsOptionsFromEnv } from 'nest-mtls';
import { MtlsAdminModule, mtlsAdminOptionsFromEnv } from 'nest-mtls/admin';
import { mtlsOptionsWithDevPki } from 'nest-mtls/dev-pki';
import { spiffeWorkloadApiSourceFromEnv } from 'nest-mtls/spiffe';
import { EventsController } from './events.controller';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // Its own certificate (CN=event-service): trusted by user-service, but not allowed.
    MtlsModule.forRootAsync({
      serve: false, // plain HTTP for browsers; mutual TLS only on the calls to user-service
      inject: [ConfigService],
      useFactory: (config: ConfigService) => {
        // MTLS_SPIFFE=true: the X509-SVID and trust bundle of a SPIRE agent (SPIFFE_ENDPOINT_SOCKET), followed as they rotate.
        const spiffe = spiffeWorkloadApiSourceFromEnv(config);
        if (spiffe) return { ...mtlsOptionsFromEnv(config), source: spiffe };
        // A fresh clone runs with no settings: opt in to the development PKI, except in production.
        return mtlsOptionsWithDevPki('event-service', { env: config, devPki: process.env.NODE_ENV !== 'production' });
      },
    }),
    // The admin port (plain HTTP: /health, /health/live, /metrics) on ADMIN_PORT, bound to ADMIN_HOST; unset: none.
    MtlsAdminModule.forRootAsync({ inject: [ConfigService], useFactory: (config: ConfigService) => mtlsAdminOptionsFromEnv(config) }),
  ],
  controllers: [EventsController],
})
export class EventServiceModule {}
