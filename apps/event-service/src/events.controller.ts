import { Controller, Get, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MtlsClientError, MtlsHttpClient, type MtlsRequest } from 'nest-mtls';
import { httpsUrlSetting, logSafe, spiffeIdSetting } from 'nest-mtls/app';

/** What event-service answers when user-service refuses it. */
export interface BlockedCall {
  statusCode: 502;
  message: string;
  /** What went wrong upstream: `kind` and `code` as in MtlsClientError (`code` is stable, e.g. ERR_MTLS_CLIENT_STATUS). */
  upstream: { url: string; status?: number; message?: string; kind: string; code: string; serverIdentity?: { expected: string; found: string } };
}

/** Tries to read a user from user-service, whose policy does not let event-service in. */
@Controller()
export class EventsController {
  private readonly logger = new Logger(EventsController.name);
  private readonly userServiceUrl: string;
  private readonly call: MtlsRequest;

  constructor(
    private readonly http: MtlsHttpClient,
    config: ConfigService,
  ) {
    this.userServiceUrl = httpsUrlSetting('USER_SERVICE_URL', config.get<string>('USER_SERVICE_URL'), 'https://localhost:8443');
    // USER_SERVICE_SPIFFE_ID: who user-service must be, besides the name in the URL (unset: the name only).
    const spiffeId = spiffeIdSetting('USER_SERVICE_SPIFFE_ID', config.get<string>('USER_SERVICE_SPIFFE_ID'));
    this.call = { timeoutMs: 5000, ...(spiffeId ? { serverIdentity: { spiffeId } } : {}) };
  }

  @Get()
  async readUser(): Promise<unknown> {
    const url = `${this.userServiceUrl}/users/1`;
    try {
      return { user: await this.http.getJson(url, this.call) };
    } catch (err) {
      if (!(err instanceof MtlsClientError)) throw err;
      this.logger.warn(`user-service call failed: ${logSafe(err.message)}`);
      const body: BlockedCall = {
        statusCode: 502,
        message: err.kind === 'status' ? `user-service refused the call with ${err.status}` : `user-service could not be called (${err.kind})`,
        upstream: { url, status: err.status, message: err.upstreamMessage ?? err.message, kind: err.kind, code: err.code, ...(err.serverIdentity ? { serverIdentity: err.serverIdentity } : {}) },
      };
      throw new HttpException(body, HttpStatus.BAD_GATEWAY);
    }
  }
}
