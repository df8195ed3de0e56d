import { Controller, Get, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MtlsClientError, MtlsHttpClient, httpsUrlSetting, logSafe } from 'nest-mtls';

/** What event-service answers when user-service refuses it. */
export interface BlockedCall {
  statusCode: 502;
  message: string;
  /** What went wrong upstream: `kind` and `code` as in MtlsClientError (`code` is stable, e.g. ERR_MTLS_CLIENT_STATUS). */
  upstream: { url: string; status?: number; message?: string; kind: string; code: string };
}

/** Tries to read a user from user-service, whose policy does not let event-service in. */
@Controller()
export class EventsController {
  private readonly logger = new Logger(EventsController.name);
  private readonly userServiceUrl: string;

  constructor(
    private readonly http: MtlsHttpClient,
    config: ConfigService,
  ) {
    this.userServiceUrl = httpsUrlSetting('USER_SERVICE_URL', config.get<string>('USER_SERVICE_URL'), 'https://localhost:8443');
  }

  @Get()
  async readUser(): Promise<unknown> {
    const url = `${this.userServiceUrl}/users/1`;
    try {
      return { user: await this.http.getJson(url, { timeoutMs: 5000 }) };
    } catch (err) {
      if (!(err instanceof MtlsClientError)) throw err;
      this.logger.warn(`user-service call failed: ${logSafe(err.message)}`);
      const body: BlockedCall = {
        statusCode: 502,
        message: err.kind === 'status' ? `user-service refused the call with ${err.status}` : `user-service could not be called (${err.kind})`,
        upstream: { url, status: err.status, message: err.upstreamMessage ?? err.message, kind: err.kind, code: err.code },
      };
      throw new HttpException(body, HttpStatus.BAD_GATEWAY);
    }
  }
}
