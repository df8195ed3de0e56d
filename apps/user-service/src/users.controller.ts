import { Controller, Get, Logger, Param, ParseIntPipe } from '@nestjs/common';
import { ClientCert, RequireClientCert } from 'nest-mtls';
import { UsersService, type User } from './users.service';

/** Only home-page-service may read users: the DN regex of the article, anchored. */
@Controller('users')
@RequireClientCert(/^CN=home-page-service(,|$)/)
export class UsersController {
  private readonly logger = new Logger(UsersController.name);

  constructor(private readonly users: UsersService) {}

  @Get(':id')
  findOne(@Param('id', ParseIntPipe) id: number, @ClientCert('subject') caller: string): User {
    this.logger.debug(`user ${id} read by ${caller}`);
    return this.users.findOne(id);
  }
}
