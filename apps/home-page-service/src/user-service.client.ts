import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MtlsHttpClient, type MtlsRequest } from 'nest-mtls';
import { httpsUrlSetting, spiffeIdSetting } from 'nest-mtls/app';
import { userFromAnswer, usersFromAnswer, type UserView } from './user.dto';

/** USER_SERVICE_URL (default https://localhost:8443), checked at startup. */
export function userServiceUrl(config: ConfigService): string {
  return httpsUrlSetting('USER_SERVICE_URL', config.get<string>('USER_SERVICE_URL'), 'https://localhost:8443');
}

/**
 * USER_SERVICE_SPIFFE_ID, checked at startup: who user-service must be
 * (its certificate's SPIFFE ID, `spiffe://example.org/user-service` in the
 * development PKI) besides the name in USER_SERVICE_URL. Unset: the name only.
 */
export function userServiceIdentity(config: ConfigService): Pick<MtlsRequest, 'serverIdentity'> {
  const spiffeId = spiffeIdSetting('USER_SERVICE_SPIFFE_ID', config.get<string>('USER_SERVICE_SPIFFE_ID'));
  return spiffeId ? { serverIdentity: { spiffeId } } : {};
}

/** Reads users from user-service over mTLS, presenting home-page-service's certificate. */
@Injectable()
export class UserServiceClient {
  private readonly baseUrl: string;
  private readonly call: MtlsRequest;

  constructor(
    private readonly http: MtlsHttpClient,
    config: ConfigService,
  ) {
    this.baseUrl = userServiceUrl(config);
    this.call = { timeoutMs: 5000, ...userServiceIdentity(config) };
  }

  /** User `id`; rejects with MtlsClientError when the call fails (user-service not who USER_SERVICE_SPIFFE_ID says included), NotAUserError when the answer is not a user. */
  async getUser(id: number): Promise<UserView> {
    return userFromAnswer(await this.http.getJson<unknown>(`${this.baseUrl}/users/${id}`, this.call));
  }

  /** Every user (GET /users, which user-service grants home-page-service by its SPIFFE ID); rejects as getUser. */
  async listUsers(): Promise<UserView[]> {
    return usersFromAnswer(await this.http.getJson<unknown>(`${this.baseUrl}/users`, this.call));
  }
}
