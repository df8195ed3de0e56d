import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MtlsHttpClient, httpsUrlSetting } from 'nest-mtls';

/** The user as home-page-service needs it. */
export interface UserView {
  id: number;
  name: string;
  email: string;
  phone: string;
}

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

  getUser(id: number): Promise<UserView> {
    return this.http.getJson<UserView>(`${this.baseUrl}/users/${id}`, { timeoutMs: 5000 });
  }
}
