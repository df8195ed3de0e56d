import { Logger } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
import { ClientCert, RequireClientCert } from 'nest-mtls';
import { UsersService, type User } from './users.service';

/**
 * The users over a WebSocket on the HTTPS port (`wss://…/ws`, the `ws`
 * adapter): the message `{ "event": "get_user", "data": { "id": 1 } }` is
 * answered `{ "event": "user", "data": <the user> }`. The same policy as
 * UsersController, at class level: only home-page-service; anyone else gets
 * the `exception` event with the article's message.
 */
@WebSocketGateway({ path: '/ws' })
@RequireClientCert(/^CN=home-page-service(,|$)/)
export class UsersGateway {
  private readonly logger = new Logger(UsersGateway.name);

  constructor(private readonly users: UsersService) {}

  @SubscribeMessage('get_user')
  getUser(@MessageBody() body: unknown, @ClientCert('subject') caller: string): { event: 'user'; data: User } {
    const id = (body as { id?: unknown } | null)?.id;
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new WsException('id must be a whole number');
    this.logger.debug(`user ${id} read over a WebSocket by ${caller}`);
    try {
      return { event: 'user', data: this.users.findOne(id) };
    } catch (err) {
      throw new WsException((err as Error).message);
    }
  }
}
