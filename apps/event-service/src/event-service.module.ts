import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { MtlsModule } from 'nest-mtls';
import { mtlsOptionsWithDevPki } from 'nest-mtls/testing';
import { EventsController } from './events.controller';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // Its own certificate (CN=event-service): trusted by user-service, but not allowed.
    MtlsModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) =>
        // A fresh clone runs with no settings: opt in to the development PKI, except in production.
        mtlsOptionsWithDevPki('event-service', { env: config, devPki: process.env.NODE_ENV !== 'production' }),
    }),
  ],
  controllers: [EventsController],
})
export class EventServiceModule {}
