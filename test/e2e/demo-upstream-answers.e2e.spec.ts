import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { EventServiceModule } from '../../apps/event-service/src/event-service.module';
import { HomePageModule } from '../../apps/home-page-service/src/home-page.module';
import { CapturingLogger, HTTP_ADAPTERS, startUserService } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';
import { httpsGet } from '../support/tls-probe';

/** A stack frame as V8 prints it: what must never reach a caller. */
const STACK_FRAME = /\n\s+at .+\(?.*:\d+:\d+\)?/;

function httpGet(port: number, path = '/'): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(port, path, resolve);
    req.on('error', reject);
    req.end();
  });
}

function request(port: number, path: string, done: (r: { status: number; type?: string; body: string }) => void) {
  return httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (body += d));
    res.on('end', () => done({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
  });
}

/**
 * home-page-service against a user-service that answers 200 with something
 * that is not a user: a real mTLS upstream (user-service's certificate from the
 * test PKI, demanding home-page-service's), the real HomePageModule, real HTTP.
 */
describe('home-page-service with a malformed upstream answer', () => {
  let pki: TestPki;
  let upstream: Server;
  let app: INestApplication;
  let port: number;
  let logs: CapturingLogger;
  let answer: { type: string; body: string } = { type: 'application/json', body: '' };
  const ADA = { id: 1, name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0001' };
  /** The answer to GET /users (the list); GET /users/1 gets `answer`. */
  let list: { type: string; body: string } = { type: 'application/json', body: JSON.stringify([ADA]) };
  const saved = { ...process.env };

  beforeAll(async () => {
    pki = await TestPki.create();
    const us = pki.certs['user-service'].issued;
    upstream = createHttpsServer({ key: us.keyPem, cert: us.chainPem, ca: pki.root.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const { type, body } = req.url === '/users' ? list : answer;
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    Object.assign(process.env, {
      MTLS_KEY_STORE_PATH: pki.certs['home-page-service'].p12,
      MTLS_KEY_STORE_PASSWORD: PASSWORD,
      MTLS_TRUST_STORE_PATH: pki.trustStore,
      USER_SERVICE_URL: `https://localhost:${(upstream.address() as AddressInfo).port}`,
    });
    logs = new CapturingLogger();
    app = await NestFactory.create(HomePageModule, { logger: logs, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app?.close();
    upstream?.closeAllConnections();
    upstream?.close();
    process.env = saved;
    pki?.cleanup();
  });

  it('renders the page for a well-formed user (control)', async () => {
    answer = { type: 'application/json', body: JSON.stringify({ id: 1, name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0001' }) };
    const res = await httpGet(port);
    expect(res.status).toBe(200);
    expect(res.body).toContain('<h1>Welcome, Ada Lovelace</h1>');
  });

  it.each([
    ['null', 'null'],
    ['an empty body', ''],
    ['a name that is a number', JSON.stringify({ id: 1, name: 5, email: 'ada@example.com', phone: '+44 20 7946 0001' })],
    ['an id that is a string', JSON.stringify({ id: '1', name: 'Ada', email: 'ada@example.com', phone: '1' })],
    ['a missing field', JSON.stringify({ id: 1, name: 'Ada', email: 'ada@example.com' })],
    ['an object for a string', JSON.stringify({ id: 1, name: { first: 'Ada' }, email: 'ada@example.com', phone: '1' })],
    ['an array', JSON.stringify([{ id: 1, name: 'Ada', email: 'ada@example.com', phone: '1' }])],
    ['a string', JSON.stringify('Ada Lovelace')],
  ])('answers 502 saying the answer was not a user, for %s', async (_what, body) => {
    answer = { type: 'application/json', body };
    const res = await httpGet(port);
    expect(res.status).toBe(502);
    expect(res.type).toMatch(/text\/html/);
    expect(res.body).toContain('<h1>502 Bad Gateway</h1>');
    expect(res.body).toMatch(/user-service&#39;s answer was not a user/);
    expect(res.body).not.toMatch(STACK_FRAME);
    expect(res.body).not.toMatch(/TypeError|Cannot read|is not a function/);
  });

  it.each([
    ['an object', JSON.stringify(ADA), 'expected a JSON array of users, got an object'],
    ['a user with a wrong field', JSON.stringify([ADA, { ...ADA, id: 'two' }]), 'user 2: id must not be less than 1; id must be an integer number'],
  ])('answers 502 saying the list was not a list of users, for %s', async (_what, body, problem) => {
    answer = { type: 'application/json', body: JSON.stringify(ADA) };
    list = { type: 'application/json', body };
    logs.lines.length = 0;
    try {
      const res = await httpGet(port);
      expect(res.status).toBe(502);
      expect(res.body).toMatch(/user-service&#39;s answer was not a list of users/);
      expect(logs.lines).toContainEqual(expect.stringContaining(problem));
    } finally {
      list = { type: 'application/json', body: JSON.stringify([ADA]) };
    }
  });

  it('names the field that was wrong in its log line, not to the browser', async () => {
    answer = { type: 'application/json', body: JSON.stringify({ id: 1, name: 5, email: 'ada@example.com', phone: '1' }) };
    logs.lines.length = 0;
    const res = await httpGet(port);
    expect(res.status).toBe(502);
    expect(logs.lines).toContainEqual(expect.stringMatching(/^WARN user-service's answer was not a user: name must be a string$/));
    expect(logs.lines.filter((l) => l.startsWith('ERROR'))).toEqual([]);
    expect(res.body).not.toContain('must be a string');
  });

  it('answers a request it cannot route or decode without a stack trace', async () => {
    for (const path of ['/%E0%A4%A', '/%', '/nope']) {
      const res = await httpGet(port, path);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body).not.toMatch(STACK_FRAME);
    }
  });
});

/** The other two demo services: bad answers and bad requests get a clear status, never a stack trace. */
describe('no stack trace reaches a caller of a demo service', () => {
  let pki: TestPki;
  const saved = { ...process.env };
  beforeAll(async () => (pki = await TestPki.create()));
  afterAll(() => {
    process.env = saved;
    pki?.cleanup();
  });

  it('event-service answers 502 JSON when user-service answers something that is not JSON', async () => {
    const us = pki.certs['user-service'].issued;
    const upstream = createHttpsServer({ key: us.keyPem, cert: us.chainPem, ca: pki.root.certPem, requestCert: true, rejectUnauthorized: true }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>not json</html>');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    Object.assign(process.env, {
      MTLS_KEY_STORE_PATH: pki.certs['event-service'].p12,
      MTLS_KEY_STORE_PASSWORD: PASSWORD,
      MTLS_TRUST_STORE_PATH: pki.trustStore,
      USER_SERVICE_URL: `https://localhost:${(upstream.address() as AddressInfo).port}`,
    });
    const app = await NestFactory.create(EventServiceModule, { logger: false, abortOnError: false });
    try {
      await app.listen(0, '127.0.0.1');
      const port = (app.getHttpServer().address() as AddressInfo).port;
      const res = await httpGet(port);
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body)).toMatchObject({ statusCode: 502, upstream: { kind: 'protocol', code: 'ERR_MTLS_CLIENT_PROTOCOL' } });
      for (const path of ['/%E0%A4%A', '/nope']) expect((await httpGet(port, path)).body).not.toMatch(STACK_FRAME);
    } finally {
      await app.close();
      upstream.closeAllConnections();
      upstream.close();
      process.env = saved;
    }
  });

  it.each(HTTP_ADAPTERS)('user-service on %s answers bad paths and ids with 400/404 JSON', async (adapter) => {
    const app = await startUserService(pki, {}, adapter);
    try {
      for (const [path, status] of [['/users/%E0%A4%A', 400], ['/users/abc', 400], ['/users/999', 404], ['/nope', 404]] as const) {
        const res = await httpsGet(app.port, path, pki.clientTls('home-page-service'));
        expect([path, res.status]).toEqual([path, status]);
        expect(res.body).not.toMatch(STACK_FRAME);
      }
    } finally {
      await app.close();
    }
  });
});
