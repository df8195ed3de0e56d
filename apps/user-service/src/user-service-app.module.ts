import { Module } from '@nestjs/common';
import { UserServiceModule } from './user-service.module';
import { UsersGateway } from './users.gateway';

/**
 * user-service as main.ts runs it: UserServiceModule and the users gateway
 * (served by the `ws` adapter main.ts sets). Kept apart so that tests which
 * start UserServiceModule need no WebSocket adapter.
 */
@Module({ imports: [UserServiceModule], providers: [UsersGateway] })
export class UserServiceAppModule {}
