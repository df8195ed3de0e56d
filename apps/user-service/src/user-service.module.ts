import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { MtlsModule, mtlsOptionsFromEnv } from 'nest-mtls';
import { MtlsAdminModule, mtlsAdminOptionsFromEnv } from 'nest-mtls/admin';
import { mtlsOptionsWithDevPki } from 'nest-mtls/dev-pki';
import { spiffeWorkloadApiSourceFromEnv } from 'nest-mtls/spiffe';
import { HealthController } from './health.controller';
import { UsersController } from './users.controller';
import { UsersGrpcController } from './users-grpc.controller';
import { UsersService } from './users.service';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // The one place the TLS material is configured: MTLS_* variables, or the dev PKI.
    MtlsModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => {
        // MTLS_SPIFFE=true: the X509-SVID and trust bundle of a SPIRE agent (SPIFFE_ENDPOINT_SOCKET), followed as they rotate.
        const spiffe = spiffeWorkloadApiSourceFromEnv(config);
        if (spiffe) return { ...mtlsOptionsFromEnv(config), source: spiffe };
        // A fresh clone runs with no settings: opt in to the development PKI, except in production.
        return mtlsOptionsWithDevPki('user-service', { env: config, devPki: process.env.NODE_ENV !== 'production' });
      },
    }),
    // The admin port (plain HTTP: /health, /health/live, /metrics) on ADMIN_PORT, bound to ADMIN_HOST; unset: none.
    MtlsAdminModule.forRootAsync({ inject: [ConfigService], useFactory: (config: ConfigService) => mtlsAdminOptionsFromEnv(config) }),
  ],
  controllers: [UsersController, UsersGrpcController, HealthController],
  providers: [UsersService],
  exports: [UsersService],
})
export class UserServiceModule {}
