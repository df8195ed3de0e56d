import { Controller, Get, Header, Logger, Res } from '@nestjs/common';
import type { Response } from 'express';
import { MtlsClientError, logSafe } from 'nest-mtls';
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
      return renderHomePage(await this.users.getUser(1));
    } catch (err) {
      if (err instanceof NotAUserError) {
        this.logger.warn(`${err.message}: ${logSafe(err.problems)}`);
        res.status(502);
        return renderUpstreamError('user-service', err.message);
      }
      if (!(err instanceof MtlsClientError)) throw err;
      this.logger.warn(`user-service call failed: ${logSafe(err.message)}`);
      res.status(502);
      return renderUpstreamError('user-service', err.message);
    }
  }
}
