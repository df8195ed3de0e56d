import { Controller, Logger, NotFoundException } from '@nestjs/common';
import { GrpcMethod, Payload, RpcException } from '@nestjs/microservices';
import { join } from 'node:path';
import { ClientCert, RequireClientCert } from 'nest-mtls';
import { HOME_PAGE_SERVICE } from './users.controller';
import { UsersService } from './users.service';

/** users.proto, next to this file (nest-cli.json copies it beside the build). */
export const USERS_PROTO = join(__dirname, 'users.proto');

/** gRPC's status codes used here (as @grpc/grpc-js numbers them). */
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;

/** `users.User`: what `users.UserService/GetUser` answers. */
export interface GrpcUser {
  id: number;
  name: string;
  email: string;
}

/**
 * `users.UserService/GetUser` over gRPC (when GRPC_PORT is set): the same
 * user as `GET /users/:id`, under the policy of `GET /users`: only
 * home-page-service, by its SPIFFE ID. Any other caller gets
 * PERMISSION_DENIED, "Certificate subject is not recognized!".
 */
@Controller()
@RequireClientCert({ spiffeId: HOME_PAGE_SERVICE })
export class UsersGrpcController {
  private readonly logger = new Logger(UsersGrpcController.name);

  constructor(private readonly users: UsersService) {}

  @GrpcMethod('UserService', 'GetUser')
  getUser(@Payload() request: { id?: unknown }, @ClientCert('subject') caller: string): GrpcUser {
    const id = request?.id;
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new RpcException({ code: INVALID_ARGUMENT, message: 'id must be a whole number' });
    this.logger.debug(`user ${id} read over gRPC by ${caller}`);
    try {
      const { name, email } = this.users.findOne(id);
      return { id, name, email };
    } catch (err) {
      if (err instanceof NotFoundException) throw new RpcException({ code: NOT_FOUND, message: err.message });
      throw err;
    }
  }
}
