import { Controller, Get, Header, Logger, Res } from '@nestjs/common';
import type { Response } from 'express';
import { MtlsClientError } from 'nest-mtls';
import { logSafe } from 'nest-mtls/app';
import { renderHomePage, renderUpstreamError } from './home-page.view';
import { NotAUserError } from './not-a-user.error';
import { UserServiceClient } from './user-service.client';

/** Browser-facing page; its data comes from user-service, which lets this service in. */
@Controller()
export class HomePageController {
  private readonly logger = new Logger(HomePageController.name);

  constructor(private readonly users: UserServiceClient) {}

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  async home(@Res({ passthrough: true }) res: Response): Promise<string> {
    try {
      const [user, all] = await Promise.all([this.users.getUser(1), this.users.listUsers()]);
      return renderHomePage(user, all);
    } catch (err) {
      if (err instanceof NotAUserError) {
        this.logger.warn(`${err.message}: ${logSafe(err.problems)}`);
        res.status(502);
        return renderUpstreamError('user-service', err.message);
      }
      if (!(err instanceof MtlsClientError)) throw err;
      this.logger.warn(`user-service call failed: ${logSafe(err.message)}`);
      res.status(502);
      // A user-service that is not who USER_SERVICE_SPIFFE_ID says: name what answered instead.
      if (err.serverIdentity) {
        const { expected, found } = err.serverIdentity;
        return renderUpstreamError('user-service', `the server at ${new URL(err.url).origin} is not who USER_SERVICE_SPIFFE_ID says (${expected}): it is ${found}`);
      }
      return renderUpstreamError('user-service', err.message);
    }
  }
}
