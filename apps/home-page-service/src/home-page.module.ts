import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { MtlsModule, mtlsOptionsFromEnv } from 'nest-mtls';
import { MtlsAdminModule, mtlsAdminOptionsFromEnv } from 'nest-mtls/admin';
import { mtlsOptionsWithDevPki } from 'nest-mtls/dev-pki';
import { spiffeWorkloadApiSourceFromEnv } from 'nest-mtls/spiffe';
import { HomePageController } from './home-page.controller';
import { UserServiceClient } from './user-service.client';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // Client side only: the material MtlsHttpClient presents to user-service.
    MtlsModule.forRootAsync({
      serve: false, // plain HTTP for browsers; mutual TLS only on the calls to user-service
      inject: [ConfigService],
      useFactory: (config: ConfigService) => {
        // MTLS_SPIFFE=true: the X509-SVID and trust bundle of a SPIRE agent (SPIFFE_ENDPOINT_SOCKET), followed as they rotate.
        const spiffe = spiffeWorkloadApiSourceFromEnv(config);
        if (spiffe) return { ...mtlsOptionsFromEnv(config), source: spiffe };
        // A fresh clone runs with no settings: opt in to the development PKI, except in production.
        return mtlsOptionsWithDevPki('home-page-service', { env: config, devPki: process.env.NODE_ENV !== 'production' });
      },
    }),
    // The admin port (plain HTTP: /health, /health/live, /metrics) on ADMIN_PORT, bound to ADMIN_HOST; unset: none.
    MtlsAdminModule.forRootAsync({ inject: [ConfigService], useFactory: (config: ConfigService) => mtlsAdminOptionsFromEnv(config) }),
  ],
  controllers: [HomePageController],
  providers: [UserServiceClient],
})
export class HomePageModule {}
