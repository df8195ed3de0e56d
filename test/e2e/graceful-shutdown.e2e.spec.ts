import { Controller, Get } from '@nestjs/common';
import { RequireClientCert } from 'nest-mtls';
import { shutdownGracefully } from 'nest-mtls/app';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect as netConnect, type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { requestOnSocket } from '../support/raw-http';
import { freePort, startService, type RunningService } from '../support/spawn-service';
import { HTTP_ADAPTERS, startWithOptions } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';
import { tlsOpen } from '../support/tls-probe';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the exit code and when it came (ms since the epoch). */
function exited(service: RunningService): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> {
  return new Promise((resolve) => {
    if (service.child.exitCode !== null) return resolve({ code: service.child.exitCode, signal: null, at: Date.now() });
    service.child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
}

/** 'refused' once nothing listens on `port` any more, 'accepted' while something does. */
function connectOutcome(port: number): Promise<'refused' | 'accepted'> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.on('error', () => resolve('refused'));
  });
}

/** Polls until `port` refuses connections; resolves with the ms it took, or rejects after `limitMs`. */
async function refusedWithin(port: number, since: number, limitMs = 2000): Promise<number> {
  for (;;) {
    if ((await connectOutcome(port)) === 'refused') return Date.now() - since;
    if (Date.now() - since > limitMs) throw new Error(`port ${port} still accepts ${limitMs} ms after SIGTERM`);
    await sleep(25);
  }
}

/** Resolves with the ms until `socket` closes after `since`. */
function closedAfter(socket: TLSSocket, since: number): Promise<number> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(Date.now() - since);
    socket.once('close', () => resolve(Date.now() - since));
  });
}

/** One Nest TCP message on an open TLS connection; resolves with the answer packet. */
function tcpMessage(socket: TLSSocket, pattern: unknown, data: unknown): Promise<{ response?: unknown; err?: unknown }> {
  return new Promise((resolve) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const hash = buffer.indexOf('#');
      if (hash < 0 || buffer.length - hash - 1 < Number(buffer.slice(0, hash))) return;
      socket.removeListener('data', onData);
      resolve(JSON.parse(buffer.slice(hash + 1)));
    };
    socket.on('data', onData);
    const body = JSON.stringify({ pattern, data, id: 'shutdown-1' });
    socket.write(`${body.length}#${body}`);
  });
}

/** The whole answer on a socket whose request was (partly) written by the caller. */
function answerOn(socket: TLSSocket): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.once('error', reject);
    socket.once('close', () => {
      const split = data.indexOf('\r\n\r\n');
      resolve({ head: data.slice(0, split), body: data.slice(split + 4) });
    });
  });
}

/** GET / on a plain-HTTP port; resolves with the status and body, or the error code when the connection was cut. */
function pageLoad(port: number): Promise<{ status: number; body: string } | { failed: string }> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ failed: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ failed: err.code ?? err.message }));
    req.end();
  });
}

/**
 * SIGTERM to the real services, spawned as their own processes: every port
 * stops accepting at once, idle connections close at once, requests in flight
 * (and the mTLS calls they make) finish, and the process exits; past
 * SHUTDOWN_TIMEOUT_MS what is still open is cut. The times measured are
 * printed.
 */
describe('graceful shutdown (SIGTERM)', () => {
  let pki: TestPki;
  let upstream: HttpsServer | undefined;
  let upstreamDelayMs = 0;
  let upstreamGotRequest: () => void = () => undefined;
  const running: RunningService[] = [];
  const answers = new Set<NodeJS.Timeout>();

  beforeAll(async () => {
    pki = await TestPki.create();
  });

  afterEach(async () => {
    for (const service of running.splice(0)) await service.stop();
    for (const timer of answers) clearTimeout(timer);
    answers.clear();
    upstream?.closeAllConnections();
    upstream?.close();
    upstream = undefined;
  });

  afterAll(() => pki?.cleanup());

  /** A user-service stand-in over real mTLS that answers user 1 after `upstreamDelayMs`. */
  async function slowUpstream(): Promise<number> {
    const us = pki.certs['user-service'].issued;
    const ada = { id: 1, name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0001' };
    upstream = createHttpsServer({ key: us.keyPem, cert: us.chainPem, ca: pki.root.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      upstreamGotRequest();
      const timer = setTimeout(() => {
        answers.delete(timer);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(req.url === '/users' ? [ada] : ada)); // the home page reads user 1 and the list
      }, upstreamDelayMs);
      answers.add(timer);
    });
    await new Promise<void>((r) => upstream!.listen(0, '127.0.0.1', r));
    return (upstream.address() as AddressInfo).port;
  }

  it.each(HTTP_ADAPTERS)('user-service on %s: stops accepting on the mTLS, TCP and admin ports, closes idle connections, finishes the request in flight, exits 0', async (adapter) => {
    const [port, tcpPort, adminPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const service = await startService('user-service', {
      MTLS_KEY_STORE_PATH: pki.certs['user-service'].p12,
      MTLS_KEY_STORE_PASSWORD: PASSWORD,
      MTLS_TRUST_STORE_PATH: pki.trustStore,
      PORT: String(port),
      TCP_PORT: String(tcpPort),
      ADMIN_PORT: String(adminPort),
      SHUTDOWN_TIMEOUT_MS: '10000',
      HTTP_ADAPTER: adapter,
    });
    running.push(service);
    const exit = exited(service);
    const home = pki.clientTls('home-page-service');

    // An idle keep-alive HTTPS connection, an idle TCP connection (as Nest's ClientTCP keeps one), and a request in flight:
    // its header is complete, its JSON body half sent (Express's body parser waits for the rest). Fastify answers a GET
    // without reading its body, so user-service has no request to hold in flight there: the in-process test below holds
    // one on both adapters with a slow handler.
    const holdsRequest = adapter === 'express';
    const idleHttps = await tlsOpen(port, home);
    expect(await requestOnSocket(idleHttps, '/users/1')).toMatchObject({ status: 200 });
    const idleTcp = await tlsOpen(tcpPort, home);
    expect(await tcpMessage(idleTcp, { cmd: 'get_user' }, { id: 1 })).toMatchObject({ response: { id: 1 } });
    const slow = holdsRequest ? await tlsOpen(port, home) : undefined;
    const answer = slow ? answerOn(slow) : undefined;
    slow?.write('GET /users/1 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"pa');
    await sleep(200);

    const sigterm = Date.now();
    service.child.kill('SIGTERM');
    const [httpsRefused, tcpRefused, adminRefused, idleHttpsClosed, idleTcpClosed] = await Promise.all([
      refusedWithin(port, sigterm),
      refusedWithin(tcpPort, sigterm),
      refusedWithin(adminPort, sigterm),
      closedAfter(idleHttps, sigterm),
      closedAfter(idleTcp, sigterm),
    ]);
    for (const ms of [httpsRefused, tcpRefused, adminRefused, idleHttpsClosed, idleTcpClosed]) expect(ms).toBeLessThan(1000);
    let answered = -1;
    if (slow && answer) {
      expect(slow.destroyed).toBe(false); // the request in flight keeps its connection
      await sleep(1500 - (Date.now() - sigterm));
      slow.write('ge":1}');
      const { head, body } = await answer;
      answered = Date.now() - sigterm;
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      expect(head).toMatch(/\r\nconnection: close/i);
      expect(JSON.parse(body)).toMatchObject({ id: 1, name: 'Ada Lovelace' });
    }
    const { code, at } = await exit;
    const exitedMs = at - sigterm;
    expect(code).toBe(0);
    expect(exitedMs).toBeLessThan(4000);
    const inFlight = holdsRequest ? 1 : 0;
    expect(service.output()).toMatch(new RegExp(`stopped https 127\\.0\\.0\\.1:${port}, tcp 127\\.0\\.0\\.1:${tcpPort}, admin http 127\\.0\\.0\\.1:${adminPort}; ${inFlight} request\\(s\\) in flight finished in \\d+ ms`));
    expect(service.output()).toMatch(/shut down in \d+ ms/);
    console.log(
      `user-service on ${adapter} after SIGTERM: ports refused after ${httpsRefused}/${tcpRefused}/${adminRefused} ms (https/tcp/admin), idle connections closed after ${idleHttpsClosed}/${idleTcpClosed} ms, ` +
        (holdsRequest ? `the request in flight answered 200 after ${answered} ms, ` : '') +
        `exit 0 after ${exitedMs} ms`,
    );
  }, 60000);

  it('home-page-service: a page load whose mTLS call to user-service is in flight finishes (the outbound pool closes after it), exit 0', async () => {
    upstreamDelayMs = 2000;
    const upstreamPort = await slowUpstream();
    const [port, adminPort] = await Promise.all([freePort(), freePort()]);
    const service = await startService('home-page-service', {
      MTLS_KEY_STORE_PATH: pki.certs['home-page-service'].p12,
      MTLS_KEY_STORE_PASSWORD: PASSWORD,
      MTLS_TRUST_STORE_PATH: pki.trustStore,
      USER_SERVICE_URL: `https://localhost:${upstreamPort}`,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
    });
    running.push(service);
    const exit = exited(service);
    const upstreamCalled = new Promise<void>((r) => (upstreamGotRequest = r));
    const page = pageLoad(port);
    await Promise.race([upstreamCalled, page.then((r) => Promise.reject(new Error(`the page answered before calling the upstream: ${JSON.stringify(r).slice(0, 300)}\n${service.output()}`)))]);
    const sigterm = Date.now();
    service.child.kill('SIGTERM');
    expect(await refusedWithin(port, sigterm)).toBeLessThan(1000);
    const res = await page;
    const answered = Date.now() - sigterm;
    expect(res).toMatchObject({ status: 200 });
    expect((res as { body: string }).body).toContain('<h1>Welcome, Ada Lovelace</h1>');
    const { code, at } = await exit;
    expect(code).toBe(0);
    expect(answered).toBeGreaterThan(1500); // it really waited for the upstream
    console.log(`home-page-service after SIGTERM: the page (upstream answering after 2000 ms) answered 200 after ${answered} ms, exit 0 after ${at - sigterm} ms`);
  }, 60000);

  it('past SHUTDOWN_TIMEOUT_MS the connections still busy are closed, and it exits all the same', async () => {
    upstreamDelayMs = 4000;
    const upstreamPort = await slowUpstream();
    const port = await freePort();
    const service = await startService('home-page-service', {
      MTLS_KEY_STORE_PATH: pki.certs['home-page-service'].p12,
      MTLS_KEY_STORE_PASSWORD: PASSWORD,
      MTLS_TRUST_STORE_PATH: pki.trustStore,
      USER_SERVICE_URL: `https://localhost:${upstreamPort}`,
      PORT: String(port),
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    running.push(service);
    const exit = exited(service);
    const upstreamCalled = new Promise<void>((r) => (upstreamGotRequest = r));
    const page = pageLoad(port);
    await Promise.race([upstreamCalled, page.then((r) => Promise.reject(new Error(`the page answered before calling the upstream: ${JSON.stringify(r).slice(0, 300)}\n${service.output()}`)))]);
    const sigterm = Date.now();
    service.child.kill('SIGTERM');
    expect(await page).toHaveProperty('failed');
    const cut = Date.now() - sigterm;
    const { code, at } = await exit;
    expect(code).toBe(0);
    expect(cut).toBeGreaterThanOrEqual(950);
    expect(cut).toBeLessThan(2500);
    expect(at - sigterm).toBeLessThan(3500);
    expect(service.output()).toMatch(/1 connection\(s\) still busy after 1000 ms were closed/);
    console.log(`home-page-service with SHUTDOWN_TIMEOUT_MS=1000 and a 4000 ms upstream: the page load was cut after ${cut} ms, exit 0 after ${at - sigterm} ms`);
  }, 60000);
});

@Controller('slow')
class SlowController {
  static release: () => void = () => undefined;
  static arrived: () => void = () => undefined;

  @Get()
  @RequireClientCert()
  async slow() {
    SlowController.arrived();
    await new Promise<void>((resolve) => (SlowController.release = resolve));
    return { done: true };
  }
}

/**
 * shutdownGracefully in-process, on each adapter, with a handler that is
 * still working when the shutdown starts: the port refuses at once, an idle
 * keep-alive connection closes, the request in flight is answered with
 * `Connection: close`, and the report counts it.
 */
describe.each(HTTP_ADAPTERS)('shutdownGracefully with a request in flight (%s)', (adapter) => {
  let pki: TestPki;
  beforeAll(async () => (pki = await TestPki.create()));
  afterAll(() => pki?.cleanup());

  it('refuses new connections, closes idle ones, answers the request in flight with Connection: close, and reports it', async () => {
    const svc = await startWithOptions(pki.pemOptions('user-service'), [SlowController], [], adapter);
    const home = pki.clientTls('home-page-service');
    try {
      const idle = await tlsOpen(svc.port, home);
      expect(await requestOnSocket(idle, '/nope')).toMatchObject({ status: 404 });
      const busy = await tlsOpen(svc.port, home);
      const answer = answerOn(busy);
      const arrived = new Promise<void>((resolve) => (SlowController.arrived = resolve));
      busy.write('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await arrived;

      const started = Date.now();
      const report = shutdownGracefully(svc.app, { timeoutMs: 5000 });
      const [refused, idleClosed] = await Promise.all([refusedWithin(svc.port, started), closedAfter(idle, started)]);
      expect(refused).toBeLessThan(1000);
      expect(idleClosed).toBeLessThan(1000);
      expect(busy.destroyed).toBe(false);
      SlowController.release();
      const { head, body } = await answer;
      expect(head).toMatch(/^HTTP\/1\.1 200 /);
      expect(head).toMatch(/\r\nconnection: close/i);
      expect(JSON.parse(body)).toEqual({ done: true });
      expect(await report).toMatchObject({ inFlight: 1, cut: 0 });
    } finally {
      SlowController.release();
      await svc.close().catch(() => undefined);
    }
  });
});
