import { Controller, Get, Logger, NotFoundException, Param, ParseIntPipe } from '@nestjs/common';
import { MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { ClientCert, RequireClientCert } from 'nest-mtls';
import { UsersService, type User } from './users.service';

/** home-page-service's SPIFFE ID, as the development PKI issues it. */
export const HOME_PAGE_SERVICE = 'spiffe://example.org/home-page-service';

/**
 * Only home-page-service may read users: the DN regex of the article, anchored.
 * The same policy guards both transports: `GET /users/:id` over HTTPS and
 * `{ cmd: 'get_user' }` with `{ id }` over TCP (when TCP_PORT is set).
 * The list, `GET /users`, names home-page-service by its SPIFFE ID instead:
 * the URI SAN the development PKI (and a mesh) gives it, matched whole.
 */
@Controller('users')
@RequireClientCert(/^CN=home-page-service(,|$)/)
export class UsersController {
  private readonly logger = new Logger(UsersController.name);

  constructor(private readonly users: UsersService) {}

  /** The list: a SPIFFE rule (handler metadata wins over the controller's DN regex). */
  @Get()
  @RequireClientCert({ spiffeId: HOME_PAGE_SERVICE })
  findAll(@ClientCert('spiffeId') caller: string): User[] {
    if (Logger.isLevelEnabled('debug')) this.logger.debug(`user list read by ${caller}`);
    return this.users.findAll();
  }

  @Get(':id')
  findOne(@Param('id', ParseIntPipe) id: number, @ClientCert('subject') caller: string): User {
    // The line is built only when debug is on: this route is the bench's, and what users copy.
    if (Logger.isLevelEnabled('debug')) this.logger.debug(`user ${id} read by ${caller}`);
    return this.users.findOne(id);
  }

  /** The TCP message `{ cmd: 'get_user' }` with payload `{ "id": 1 }`: the same user as `GET /users/1`. */
  @MessagePattern({ cmd: 'get_user' })
  getUser(@Payload() payload: unknown, @ClientCert('subject') caller: string): User {
    const id = (payload as { id?: unknown } | null)?.id;
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new RpcException('id must be a whole number');
    if (Logger.isLevelEnabled('debug')) this.logger.debug(`user ${id} read over TCP by ${caller}`);
    try {
      return this.users.findOne(id);
    } catch (err) {
      // Over RPC an HttpException would become "Internal server error": say what it is.
      if (err instanceof NotFoundException) throw new RpcException(err.message);
      throw err;
    }
  }
}
