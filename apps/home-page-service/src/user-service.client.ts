import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MtlsHttpClient, httpsUrlSetting } from 'nest-mtls';
import { userFromAnswer, type UserView } from './user.dto';

/** USER_SERVICE_URL (default https://localhost:8443), checked at startup. */
export function userServiceUrl(config: ConfigService): string {
  return httpsUrlSetting('USER_SERVICE_URL', config.get<string>('USER_SERVICE_URL'), 'https://localhost:8443');
}

/** Reads users from user-service over mTLS, presenting home-page-service's certificate. */
@Injectable()
export class UserServiceClient {
  private readonly baseUrl: string;

  constructor(
    private readonly http: MtlsHttpClient,
    config: ConfigService,
  ) {
    this.baseUrl = userServiceUrl(config);
  }

  /** User `id`; rejects with MtlsClientError when the call fails, NotAUserError when the answer is not a user. */
  async getUser(id: number): Promise<UserView> {
    return userFromAnswer(await this.http.getJson<unknown>(`${this.baseUrl}/users/${id}`, { timeoutMs: 5000 }));
  }
}
