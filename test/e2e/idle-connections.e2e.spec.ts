import { Controller, Get } from '@nestjs/common';
import { RequireClientCert } from 'nest-mtls';
import type { TLSSocket } from 'node:tls';
import { requestOnSocket } from '../support/raw-http';
import { eachAdapter, startWithOptions, type RunningApp } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';
import { tlsOpen } from '../support/tls-probe';

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
