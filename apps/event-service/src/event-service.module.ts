import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { MtlsModule } from 'nest-mtls';
import { MtlsAdminModule, mtlsAdminOptionsFromEnv } from 'nest-mtls/admin';
import { mtlsOptionsWithDevPki } from 'nest-mtls/dev-pki';
import { EventsController } from './events.controller';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // Its own certificate (CN=event-service): trusted by user-service, but not allowed.
    MtlsModule.forRootAsync({
      serve: false, // plain HTTP for browsers; mutual TLS only on the calls to user-service
      inject: [ConfigService],
      useFactory: (config: ConfigService) =>
        // A fresh clone runs with no settings: opt in to the development PKI, except in production.
        mtlsOptionsWithDevPki('event-service', { env: config, devPki: process.env.NODE_ENV !== 'production' }),
    }),
    // The admin port (plain HTTP: /health, /health/live, /metrics) on ADMIN_PORT, bound to ADMIN_HOST; unset: none.
    MtlsAdminModule.forRootAsync({ inject: [ConfigService], useFactory: (config: ConfigService) => mtlsAdminOptionsFromEnv(config) }),
  ],
  controllers: [EventsController],
})
export class EventServiceModule {}
