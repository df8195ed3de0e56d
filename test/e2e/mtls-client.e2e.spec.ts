import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { MtlsClientError, type MtlsOptions } from 'nest-mtls';
import { startUserService, type RunningApp } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';
import { mtlsClientApp, type MtlsClientApp } from '../support/mtls-client-app';

/** MtlsHttpClient against real servers: allowed, refused by policy, refused in TLS, down, slow. */
describe('MtlsHttpClient', () => {
  let pki: TestPki;
  let userService: RunningApp;
  const servers: Array<Server | HttpServer | TlsServer> = [];

  function clientFor(name: string, extra: Partial<MtlsOptions> = {}): Promise<MtlsClientApp> {
    return mtlsClientApp({ keyStorePath: pki.certs[name].p12, keyStorePassword: PASSWORD, trustStorePath: pki.trustStore, ...extra });
  }

  async function rawServer(options: object, handler: (res: import('node:http').ServerResponse) => void): Promise<number> {
    const server = createHttpsServer(options, (_req, res) => handler(res));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  /** A TLS server (user-service's certificate) that answers every request with `raw` bytes, HTTP or not. */
  async function rawTlsServer(raw: string): Promise<number> {
    const cert = pki.certs['user-service'].issued;
    const server = createTlsServer({ key: cert.keyPem, cert: cert.chainPem }, (socket) => {
      socket.once('data', () => socket.end(raw));
      socket.on('error', () => undefined);
    });
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
      if ('closeAllConnections' in s) s.closeAllConnections();
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
      expect(err.message).toMatch(/did not accept our certificate/);
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

  it('says so when the server certificate may not serve TLS (clientAuth EKU only), not that ours was refused', async () => {
    const clientOnly = pki.certs['client-only-eku'].issued; // trusted, names localhost, EKU clientAuth only
    const port = await rawServer({ key: clientOnly.keyPem, cert: clientOnly.chainPem }, (res) => res.end('{}'));
    const { client, close } = await clientFor('home-page-service');
    try {
      const err = await failure(client.getJson(`https://localhost:${port}/`));
      expect(err.kind).toBe('tls');
      expect(err.causeCode).toBe('INVALID_PURPOSE');
      expect(err.message).toMatch(/the server's certificate may not be used for TLS servers \(no serverAuth extended key usage\)/);
      expect(err.message).not.toMatch(/our certificate/);
    } finally {
      await close();
    }
  });

  it.each([
    ['we offer TLS 1.3 only, the server TLS 1.2 only', { maxVersion: 'TLSv1.2' }, ['TLSv1.3'], /no TLS version in common with https:\/\/localhost:\d+\/: we offer TLSv1\.3 \(supportedProtocols\)/],
    ['we offer TLS 1.2 only, the server TLS 1.3 only', { minVersion: 'TLSv1.3' }, ['TLSv1.2'], /no TLS version in common with https:\/\/localhost:\d+\/: we offer TLSv1\.2 \(supportedProtocols\)/],
  ])('says there is no TLS version in common when %s', async (_what, serverVersions, ours, message) => {
    const server = pki.certs['user-service'].issued;
    const port = await rawServer({ key: server.keyPem, cert: server.chainPem, ...serverVersions }, (res) => res.end('{}'));
    const { client, close } = await clientFor('home-page-service', { supportedProtocols: ours });
    try {
      const err = await failure(client.getJson(`https://localhost:${port}/`));
      expect(err.kind).toBe('tls');
      expect(err.message).toMatch(message);
      expect(err.message).not.toMatch(/our certificate/);
    } finally {
      await close();
    }
    // Control: the same server, with the default protocols on our side.
    const { client: both, close: closeBoth } = await clientFor('home-page-service');
    try {
      expect(await both.getJson(`https://localhost:${port}/`)).toEqual({});
    } finally {
      await closeBoth();
    }
  });

  it.each([
    ['headers larger than Node will read', `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n{}`, 'HPE_HEADER_OVERFLOW', /response headers of https:\/\/localhost:\d+\/ are larger than Node's limit/],
    ['an invalid status line', 'HTTP/1.1 abc OK\r\ncontent-length: 2\r\n\r\n{}', 'HPE_INVALID_STATUS', /https:\/\/localhost:\d+\/ did not answer with a valid HTTP status line/],
    ['something that is not HTTP', 'SSH-2.0-OpenSSH_9.6\r\n', 'HPE_INVALID_CONSTANT', /https:\/\/localhost:\d+\/ did not answer with HTTP/],
  ])('says the answer is not readable HTTP (kind protocol) for %s', async (_what, raw, causeCode, message) => {
    const port = await rawTlsServer(raw);
    const { client, close } = await clientFor('home-page-service');
    try {
      const err = await failure(client.getJson(`https://localhost:${port}/`));
      expect(err.kind).toBe('protocol');
      expect(err.code).toBe('ERR_MTLS_CLIENT_PROTOCOL');
      expect(err.causeCode).toBe(causeCode);
      expect(err.message).toMatch(message);
    } finally {
      await close();
    }
  });

  it('says a plain-HTTP port does not speak TLS', async () => {
    const plain = createHttpServer((_req, res) => res.end('{}'));
    servers.push(plain);
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const { client, close } = await clientFor('home-page-service');
    try {
      const err = await failure(client.getJson(`https://localhost:${(plain.address() as AddressInfo).port}/`));
      expect(err.kind).toBe('tls');
      expect(err.message).toMatch(/does not speak TLS \(wrong version number\): is that a plain-HTTP port/);
    } finally {
      await close();
    }
  });

  it('reads a well-formed answer from the same raw TLS server (control for the cases above)', async () => {
    const port = await rawTlsServer('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{"ok":true}');
    const { client, close } = await clientFor('home-page-service');
    try {
      expect(await client.getJson(`https://localhost:${port}/`)).toEqual({ ok: true });
    } finally {
      await close();
    }
  });
});
