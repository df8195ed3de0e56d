import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventServiceModule } from '../../apps/event-service/src/event-service.module';
import { HomePageModule } from '../../apps/home-page-service/src/home-page.module';
import { startUserService, startWithOptions, type RunningApp } from '../support/start-app';
import { httpsGet } from '../support/tls-probe';
import { PASSWORD, spiffe, TestPki } from '../support/test-pki';
import { UsersController } from '../../apps/user-service/src/users.controller';
import { UsersService } from '../../apps/user-service/src/users.service';

function httpGet(port: number): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The demo's SPIFFE parts: user-service's GET /users by SPIFFE ID, and its callers checking that user-service is user-service. */
describe('demo services: SPIFFE IDs both ways', () => {
  let pki: TestPki;
  let userService: RunningApp;
  /** A server with event-service's certificate (valid for localhost) that serves the demo's users controller: the wrong upstream. */
  let impostor: RunningApp;
  const saved = { ...process.env };

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('hps-other-id', { subject: 'CN=home-page-service,O=nest-mtls', uri: [spiffe('other')] });
    userService = await startUserService(pki);
    impostor = await startWithOptions(pki.pemOptions('event-service'), [UsersController], [UsersService]);
  });

  afterAll(async () => {
    await userService?.close();
    await impostor?.close();
    process.env = saved;
    pki?.cleanup();
  });

  it('GET /users admits home-page-service by its SPIFFE ID, whole, and nobody else', async () => {
    const res = await httpsGet(userService.port, '/users', pki.clientTls('home-page-service'));
    expect(res.status).toBe(200);
    expect((res.json as Array<{ name: string }>).map((u) => u.name)).toEqual(['Ada Lovelace', 'Alan Turing']);
    expect((await httpsGet(userService.port, '/users', pki.clientTls('event-service'))).status).toBe(403);
    expect((await httpsGet(userService.port, '/users', pki.clientTls('home-page-service-evil'))).status).toBe(403);
    // The DN regex of /users/:id lets this one in; the SPIFFE rule of /users does not.
    expect((await httpsGet(userService.port, '/users/1', pki.clientTls('hps-other-id'))).status).toBe(200);
    expect((await httpsGet(userService.port, '/users', pki.clientTls('hps-other-id'))).status).toBe(403);
  });

  async function start(module: unknown, service: string, env: Record<string, string>): Promise<{ app: INestApplication; port: number }> {
    Object.assign(process.env, {
      MTLS_KEY_STORE_PATH: pki.certs[service].p12,
      MTLS_KEY_STORE_PASSWORD: PASSWORD,
      MTLS_TRUST_STORE_PATH: pki.trustStore,
      ...env,
    });
    try {
      const app = await NestFactory.create(module as never, { logger: false, abortOnError: false });
      await app.listen(0, '127.0.0.1');
      return { app, port: (app.getHttpServer().address() as AddressInfo).port };
    } finally {
      process.env = { ...saved };
    }
  }

  it('home-page-service shows user 1 and the list when user-service is who USER_SERVICE_SPIFFE_ID says', async () => {
    const home = await start(HomePageModule, 'home-page-service', { USER_SERVICE_URL: `https://localhost:${userService.port}`, USER_SERVICE_SPIFFE_ID: spiffe('user-service') });
    try {
      const res = await httpGet(home.port);
      expect(res.status).toBe(200);
      expect(res.body).toContain('<h1>Welcome, Ada Lovelace</h1>');
      expect(res.body).toContain('<li>Alan Turing &lt;alan@example.com&gt;</li>');
    } finally {
      await home.app.close();
    }
  });

  it('home-page-service answers 502 naming what it found when the upstream is another service', async () => {
    const home = await start(HomePageModule, 'home-page-service', { USER_SERVICE_URL: `https://localhost:${impostor.port}`, USER_SERVICE_SPIFFE_ID: spiffe('user-service') });
    try {
      const res = await httpGet(home.port);
      expect(res.status).toBe(502);
      expect(res.body).toContain(
        `Could not read the users from user-service: the server at https://localhost:${impostor.port} is not who USER_SERVICE_SPIFFE_ID says (SPIFFE ID is ${spiffe('user-service')}): it is ${spiffe('event-service')} (CN=event-service,O=nest-mtls)`,
      );
    } finally {
      await home.app.close();
    }
  });

  it('event-service passes USER_SERVICE_SPIFFE_ID too, and says what it found', async () => {
    const event = await start(EventServiceModule, 'event-service', { USER_SERVICE_URL: `https://localhost:${impostor.port}`, USER_SERVICE_SPIFFE_ID: spiffe('user-service') });
    try {
      const res = await httpGet(event.port);
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body)).toMatchObject({
        upstream: { kind: 'tls', code: 'ERR_MTLS_CLIENT_TLS', serverIdentity: { expected: `SPIFFE ID is ${spiffe('user-service')}`, found: `${spiffe('event-service')} (CN=event-service,O=nest-mtls)` } },
      });
    } finally {
      await event.app.close();
    }
  });

  it('a USER_SERVICE_SPIFFE_ID that is not a SPIFFE ID stops startup, naming the variable', async () => {
    await expect(start(HomePageModule, 'home-page-service', { USER_SERVICE_SPIFFE_ID: 'spiffe://Example.org/user-service' })).rejects.toThrow(
      'USER_SERVICE_SPIFFE_ID: not a SPIFFE ID: the trust domain must be lowercase, got "spiffe://Example.org/user-service"',
    );
  });
});
