import { Controller, Get } from '@nestjs/common';
import { ClientCert, RequireClientCert } from 'nest-mtls';
import { connect, type TLSSocket } from 'node:tls';
import { requestOnSocket } from '../support/raw-http';
import { HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';
import { tlsOpen } from '../support/tls-probe';

@Controller()
class CallerController {
  @Get('guarded')
  @RequireClientCert(/^CN=home-page-service(,|$)/)
  guarded(@ClientCert('subject') subject: string | undefined) {
    return { subject: subject ?? null };
  }

  /** No guard: @ClientCert has nothing to return, whatever the connection's earlier requests were admitted as. */
  @Get('open')
  open(@ClientCert('subject') subject: string | undefined) {
    return { subject: subject ?? null };
  }
}

/** Reads `count` HTTP/1.1 answers (Content-Length bodies) from `socket`. */
function answers(socket: TLSSocket, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const bodies: string[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${bodies.length} of ${count} answers: ${buffer}`)), 10000);
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        bodies.push(buffer.slice(end + 4, end + 4 + length));
        buffer = buffer.slice(end + 4 + length);
        if (bodies.length === count) {
          clearTimeout(timer);
          return resolve(bodies);
        }
      }
    });
  });
}

/**
 * The identity ClientCertGuard admitted is kept on the HTTP/1.1 connection
 * for the request it judged (not per request in a map): it must reach that
 * request's @ClientCert() only, never another request on the same
 * connection, kept alive or pipelined.
 */
describe.each(HTTP_ADAPTERS)('%s: the admitted identity belongs to its request, not its connection', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startWithOptions({ keyStorePath: pki.certs['user-service'].p12, keyStorePassword: PASSWORD, trustStorePath: pki.trustStore }, [CallerController], [], adapter);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('kept alive: a guarded request gets its subject, the unguarded one after it on the same connection gets none', async () => {
    const socket = await tlsOpen(svc.port, pki.clientTls('home-page-service'));
    try {
      for (let i = 0; i < 3; i++) {
        const guarded = await requestOnSocket(socket, '/guarded');
        expect(guarded).toMatchObject({ status: 200 });
        expect(JSON.parse((guarded as { body: string }).body)).toEqual({ subject: expect.stringMatching(/^CN=home-page-service(,|$)/) });
        const open = await requestOnSocket(socket, '/open');
        expect(open).toMatchObject({ status: 200 });
        expect(JSON.parse((open as { body: string }).body)).toEqual({ subject: null });
      }
    } finally {
      socket.destroy();
    }
  });

  it('pipelined: guarded, open, guarded written at once are answered in order with their own identities', async () => {
    const socket = connect({ port: svc.port, host: '127.0.0.1', ...pki.clientTls('home-page-service') });
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      const read = answers(socket, 3);
      const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
      socket.write(request('/guarded') + request('/open') + request('/guarded'));
      const bodies = (await read).map((body) => JSON.parse(body) as { subject: string | null });
      expect(bodies[0].subject).toMatch(/^CN=home-page-service(,|$)/);
      expect(bodies[1].subject).toBeNull();
      expect(bodies[2].subject).toMatch(/^CN=home-page-service(,|$)/);
    } finally {
      socket.destroy();
    }
  });
});
