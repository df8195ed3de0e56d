import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { MtlsModule } from 'nest-mtls';
import { mtlsOptionsWithDevPki } from 'nest-mtls/testing';
import { HealthController } from './health.controller';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // The one place the TLS material is configured: MTLS_* variables, or the dev PKI.
    MtlsModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => mtlsOptionsWithDevPki('user-service', config),
    }),
  ],
  controllers: [UsersController, HealthController],
  providers: [UsersService],
})
export class UserServiceModule {}
