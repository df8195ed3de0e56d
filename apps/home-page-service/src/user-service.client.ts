import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MtlsHttpClient } from 'nest-mtls';

/** The user as home-page-service needs it. */
export interface UserView {
  id: number;
  name: string;
  email: string;
  phone: string;
}

/** Reads users from user-service over mTLS, presenting home-page-service's certificate. */
@Injectable()
export class UserServiceClient {
  private readonly baseUrl: string;

  constructor(
    private readonly http: MtlsHttpClient,
    config: ConfigService,
  ) {
    this.baseUrl = (config.get<string>('USER_SERVICE_URL') ?? 'https://localhost:8443').replace(/\/+$/, '');
  }

  getUser(id: number): Promise<UserView> {
    return this.http.getJson<UserView>(`${this.baseUrl}/users/${id}`, { timeoutMs: 5000 });
  }
}
