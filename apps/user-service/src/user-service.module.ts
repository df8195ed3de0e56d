import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { MtlsModule } from 'nest-mtls';
import { MtlsAdminModule, mtlsAdminOptionsFromEnv } from 'nest-mtls/admin';
import { mtlsOptionsWithDevPki } from 'nest-mtls/dev-pki';
import { HealthController } from './health.controller';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // The one place the TLS material is configured: MTLS_* variables, or the dev PKI.
    MtlsModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) =>
        // A fresh clone runs with no settings: opt in to the development PKI, except in production.
        mtlsOptionsWithDevPki('user-service', { env: config, devPki: process.env.NODE_ENV !== 'production' }),
    }),
    // The admin port (plain HTTP: /health, /health/live, /metrics) on ADMIN_PORT, bound to ADMIN_HOST; unset: none.
    MtlsAdminModule.forRootAsync({ inject: [ConfigService], useFactory: (config: ConfigService) => mtlsAdminOptionsFromEnv(config) }),
  ],
  controllers: [UsersController, HealthController],
  providers: [UsersService],
})
export class UserServiceModule {}
