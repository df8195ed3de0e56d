import { Body, Controller, Get, Post } from '@nestjs/common';
import { RequireClientCert } from 'nest-mtls';
import type { TLSSocket } from 'node:tls';
import { requestOnSocket } from '../support/raw-http';
import { eachAdapter, HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';
import { closedWithin, tlsOpen } from '../support/tls-probe';

@Controller('health')
@RequireClientCert()
class HealthController {
  @Get()
  health() {
    return { status: 'ok' };
  }
}

const closed = (socket: TLSSocket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A connection that completes its handshake and then sends no request must
 * not hold a file descriptor forever: after requestHeaderTimeoutMs the server
 * closes it, in every mode (want mode lets clients without a certificate
 * complete the handshake, so there it is anyone's connection).
 */
describe.each(
  eachAdapter<[string, object, string | undefined]>([
    ['want mode, no certificate', { needClientAuth: false }, undefined],
    ['default mode, trusted certificate', {}, 'event-service'],
  ]),
)('%s: idle connections after the handshake, %s', (adapter, _mode, extra, who) => {
  let pki: TestPki;
  let svc: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startWithOptions(
      { keyStorePath: pki.certs['user-service'].p12, keyStorePassword: PASSWORD, trustStorePath: pki.trustStore, requestHeaderTimeoutMs: 800, ...extra },
      [HealthController],
      [],
      adapter,
    );
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('closes 20 connections that sent nothing within the timeout, and logs it once', async () => {
    const before = svc.logs.lines.length;
    const sockets = await Promise.all(Array.from({ length: 20 }, () => tlsOpen(svc.port, pki.clientTls(who))));
    sockets.forEach((s) => s.on('error', () => undefined));
    // Well past the timeout, but not forever: without the deadline they would stay open.
    await Promise.race([Promise.all(sockets.map(closed)), sleep(5000)]);
    const stillOpen = sockets.filter((s) => !s.destroyed).length;
    sockets.forEach((s) => s.destroy());
    expect(stillOpen).toBe(0);
    await sleep(50);
    const lines = svc.logs.lines.slice(before).filter((l) => l.includes('refused: timeout'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^WARN connection from 127\.0\.0\.1:\d+ refused: timeout \(no request header within 800 ms of the handshake\)$/);
  });

  it('a connection that starts a request header and never completes it is closed at the timeout (the deadline asks for a complete header)', async () => {
    const socket = await tlsOpen(svc.port, pki.clientTls(who));
    socket.on('error', () => undefined);
    try {
      socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      // Node's own header deadline (headersTimeout) is far longer: only the first-request deadline closes it this soon.
      expect(await closedWithin(socket, 5000)).toBeLessThan(5000);
    } finally {
      socket.destroy();
    }
  });

  it('a connection whose first request is still being answered at the timeout is left open', async () => {
    const socket = await tlsOpen(svc.port, pki.clientTls(who));
    try {
      // Header complete, body still to come (Content-Length): the request is in flight, its answer not written.
      socket.write('POST /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{');
      await sleep(1200);
      expect(socket.destroyed).toBe(false);
    } finally {
      socket.destroy();
    }
  });

  it('control: a connection that asks in time is answered, and keeps being served past the timeout', async () => {
    const socket = await tlsOpen(svc.port, pki.clientTls(who));
    try {
      const first = await requestOnSocket(socket, '/health');
      expect(first).toMatchObject({ status: who ? 200 : 403 });
      await sleep(1200); // past requestHeaderTimeoutMs, within the keep-alive timeout (Node's 5 s, Fastify's 72 s)
      expect(socket.destroyed).toBe(false);
      expect(await requestOnSocket(socket, '/health')).toMatchObject({ status: who ? 200 : 403 });
    } finally {
      socket.destroy();
    }
  });
});

@Controller('upload')
@RequireClientCert()
class UploadController {
  @Post()
  upload(@Body() body: { data?: string }) {
    return { length: body.data?.length ?? 0 };
  }
}

/**
 * A whole-request deadline on both adapters (requestTimeoutMs, Node's
 * 300000 ms by default): a trusted caller that drips its body a byte at a
 * time cannot hold a connection (and a request slot) forever. Fastify makes
 * its servers with none.
 */
describe.each(HTTP_ADAPTERS)('whole-request deadline (requestTimeoutMs) (%s)', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;
  let byDefault: RunningApp;
  const DEADLINE_MS = 1500;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startWithOptions(pki.pemOptions('user-service', { requestTimeoutMs: DEADLINE_MS }), [UploadController], [], adapter);
    byDefault = await startWithOptions(pki.pemOptions('user-service'), [UploadController], [], adapter);
  });

  afterAll(async () => {
    await svc?.close();
    await byDefault?.close();
    pki?.cleanup();
  });

  const body = JSON.stringify({ data: 'x'.repeat(40) });
  const head = `POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;

  it("has Node's 300000 ms by default on either adapter (Fastify's own default is none)", () => {
    expect(byDefault.app.getHttpServer().requestTimeout).toBe(300_000);
  });

  it('a body dripped a byte at a time is cut at the deadline: 408, connection closed', async () => {
    const socket = await tlsOpen(svc.port, pki.clientTls('home-page-service'));
    socket.on('error', () => undefined);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    const started = Date.now();
    socket.write(head);
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < body.length - 1 && !socket.destroyed) socket.write(body[sent++]); // never the last byte
    }, 100);
    try {
      // Without a deadline it would stay open until the body is complete, which it never is.
      await closedWithin(socket, DEADLINE_MS + 6000);
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
    const took = Date.now() - started;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(took).toBeGreaterThanOrEqual(DEADLINE_MS - 100);
    expect(sent).toBeLessThan(body.length - 1);
  });

  it('control: a body sent in time is answered, on a connection that then stays usable', async () => {
    const socket = await tlsOpen(svc.port, pki.clientTls('home-page-service'));
    socket.on('error', () => undefined);
    try {
      const answered = new Promise<string>((resolve) => {
        let answer = '';
        socket.on('data', (d: Buffer) => {
          answer += d.toString('latin1');
          if (answer.includes('"length":40')) resolve(answer);
        });
      });
      socket.write(head + body);
      expect(await answered).toMatch(/^HTTP\/1\.1 201 /);
      await sleep(DEADLINE_MS + 500); // past the deadline: it counts per request, not per connection
      expect(socket.destroyed).toBe(false);
      expect(await requestOnSocket(socket, '/upload')).toMatchObject({ status: 404 });
    } finally {
      socket.destroy();
    }
  });
});
