import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { MtlsClientError, MtlsHttpClient, MtlsModule } from 'nest-mtls';
import { startUserService, type RunningApp } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';

/** MtlsHttpClient against real servers: allowed, refused by policy, refused in TLS, down, slow. */
describe('MtlsHttpClient', () => {
  let pki: TestPki;
  let userService: RunningApp;
  const servers: Server[] = [];

  async function clientFor(name: string): Promise<{ client: MtlsHttpClient; close: () => Promise<void> }> {
    @Module({
      imports: [MtlsModule.forRoot({ keyStorePath: pki.certs[name].p12, keyStorePassword: PASSWORD, trustStorePath: pki.trustStore })],
    })
    class ClientModule {}
    const ctx = await NestFactory.createApplicationContext(ClientModule, { logger: false });
    return { client: ctx.get(MtlsHttpClient), close: () => ctx.close() };
  }

  async function rawServer(options: object, handler: (res: import('node:http').ServerResponse) => void): Promise<number> {
    const server = createHttpsServer(options, (_req, res) => handler(res));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  async function failure(p: Promise<unknown>): Promise<MtlsClientError> {
    try {
      await p;
    } catch (err) {
      expect(err).toBeInstanceOf(MtlsClientError);
      return err as MtlsClientError;
    }
    throw new Error('expected the call to fail');
  }

  beforeAll(async () => {
    pki = await TestPki.create();
    userService = await startUserService(pki);
  });

  afterAll(async () => {
    await userService?.close();
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    pki?.cleanup();
  });

  it('reads JSON from a service that allows us, over kept-alive connections', async () => {
    const { client, close } = await clientFor('home-page-service');
    try {
      const url = `https://localhost:${userService.port}/users/1`;
      expect(await client.getJson(url)).toMatchObject({ id: 1, name: 'Ada Lovelace' });
      expect(await client.getJson(url)).toMatchObject({ id: 1 });
    } finally {
      await close();
    }
  });

  it('reports a 403 from the upstream guard with its status and message', async () => {
    const { client, close } = await clientFor('event-service');
    try {
      const err = await failure(client.getJson(`https://localhost:${userService.port}/users/1`));
      expect(err.kind).toBe('status');
      expect(err.status).toBe(403);
      expect(err.upstreamMessage).toBe('Certificate subject is not recognized!');
      expect(err.code).toBe('ERR_MTLS_CLIENT_STATUS');
    } finally {
      await close();
    }
  });

  it('refuses a server whose certificate is not from our CA', async () => {
    const untrusted = pki.certs.untrusted.issued;
    const port = await rawServer({ key: untrusted.keyPem, cert: untrusted.chainPem }, (res) => res.end('{}'));
    const { client, close } = await clientFor('home-page-service');
    try {
      const err = await failure(client.getJson(`https://localhost:${port}/`));
      expect(err.kind).toBe('tls');
      expect(err.message).toMatch(/refused the certificate of https:\/\/localhost/);
    } finally {
      await close();
    }
  });

  it('refuses a server whose certificate does not name the host', async () => {
    const evil = pki.certs['home-page-service-evil'].issued; // no SANs for localhost
    const port = await rawServer({ key: evil.keyPem, cert: evil.chainPem }, (res) => res.end('{}'));
    const { client, close } = await clientFor('home-page-service');
    try {
      const err = await failure(client.getJson(`https://localhost:${port}/`));
      expect(err.kind).toBe('tls');
      expect(err.code).toBe('ERR_MTLS_CLIENT_TLS');
      expect(err.causeCode).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      await close();
    }
  });

  it('says the handshake was refused when the server does not accept our certificate', async () => {
    const { client, close } = await clientFor('home-page-service');
    const server = pki.certs['user-service'].issued;
    const port = await rawServer(
      { key: server.keyPem, cert: server.chainPem, ca: pki.otherRoot.certPem, requestCert: true, rejectUnauthorized: true },
      (res) => res.end('{}'),
    );
    try {
      const err = await failure(client.getJson(`https://localhost:${port}/`));
      expect(err.kind).toBe('tls');
    } finally {
      await close();
    }
  });

  it('says the upstream is down when nothing listens', async () => {
    const port = await rawServer({ key: pki.certs['user-service'].issued.keyPem, cert: pki.certs['user-service'].issued.chainPem }, () => undefined);
    servers.pop()?.close();
    const { client, close } = await clientFor('home-page-service');
    try {
      const err = await failure(client.getJson(`https://127.0.0.1:${port}/`));
      expect(err.kind).toBe('unreachable');
      expect(err.code).toBe('ERR_MTLS_CLIENT_UNREACHABLE');
      expect(err.causeCode).toBe('ECONNREFUSED');
      expect((err.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    } finally {
      await close();
    }
  });

  it('gives up after its timeout instead of hanging', async () => {
    const server = pki.certs['user-service'].issued;
    const port = await rawServer({ key: server.keyPem, cert: server.chainPem }, () => undefined /* never answers */);
    const { client, close } = await clientFor('home-page-service');
    try {
      const err = await failure(client.getJson(`https://localhost:${port}/`, { timeoutMs: 300 }));
      expect(err.kind).toBe('timeout');
      expect(err.code).toBe('ERR_MTLS_CLIENT_TIMEOUT');
    } finally {
      await close();
    }
  });

  it('keeps its deadline when the server trickles its answer', async () => {
    const server = pki.certs['user-service'].issued;
    const port = await rawServer({ key: server.keyPem, cert: server.chainPem }, (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const tick = setInterval(() => (res.writableEnded ? clearInterval(tick) : res.write(' ')), 50); // never idle, never done
      res.on('close', () => clearInterval(tick));
    });
    const { client, close } = await clientFor('home-page-service');
    try {
      const err = await failure(client.getJson(`https://localhost:${port}/`, { timeoutMs: 400 }));
      expect(err.kind).toBe('timeout');
    } finally {
      await close();
    }
  });

  it('rejects a malformed or non-https URL with a clear error, not a TypeError', async () => {
    const { client, close } = await clientFor('home-page-service');
    try {
      expect((await failure(client.getJson('not a url'))).message).toBe('not a URL: not a url');
      expect((await failure(client.getJson('http://localhost/'))).kind).toBe('protocol');
    } finally {
      await close();
    }
  });

  it('refuses to start with a certificate that lacks the clientAuth EKU', async () => {
    @Module({
      imports: [MtlsModule.forRoot({ certPath: pki.certs['server-only-eku'].chain, keyPath: pki.certs['server-only-eku'].key, trustStorePath: pki.trustStore })],
    })
    class NoClientAuthModule {}
    await expect(NestFactory.createApplicationContext(NoClientAuthModule, { logger: false, abortOnError: false })).rejects.toThrow(
      /certPath: the certificate CN=home-page-service .* lacks the clientAuth extended key usage/,
    );
  });
});
