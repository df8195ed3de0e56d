import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Agent, request } from 'node:https';
import type { Socket } from 'node:net';
import { handshakeOutcome, httpsGet, plainHttpExchange, renegotiationOutcome, tlsOpen } from '../support/tls-probe';
import { HTTP_ADAPTERS, startUserService, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';

/**
 * user-service itself, as shipped, over real TLS on loopback: the article's
 * checks (plain HTTP, no client cert, allowed, blocked) and the refusals a
 * security review asks about; on Express and on Fastify.
 */
describe.each(HTTP_ADAPTERS)('user-service over mutual TLS (%s)', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startUserService(pki, { MTLS_CRL_PATH: pki.crlAll }, adapter);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('lets home-page-service read a user', async () => {
    const res = await httpsGet(svc.port, '/users/1', pki.clientTls('home-page-service'));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: 1, name: 'Ada Lovelace' });
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('answers 403 JSON to a trusted caller the policy does not name, and logs why', async () => {
    const res = await httpsGet(svc.port, '/users/1', pki.clientTls('event-service'));
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ statusCode: 403, message: 'Certificate subject is not recognized!' });
    expect(res.body).not.toMatch(/home-page-service|\^CN/);
    expect(svc.logs.lines.some((l) => l.startsWith('WARN 403 GET /users/1') && l.includes('CN=event-service,O=nest-mtls'))).toBe(true);
  });

  it('does not let a look-alike CN pass an anchored regex', async () => {
    expect((await httpsGet(svc.port, '/users/1', pki.clientTls('home-page-service-evil'))).status).toBe(403);
  });

  it('lets any trusted caller ask /health', async () => {
    const res = await httpsGet(svc.port, '/health', pki.clientTls('event-service'));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('answers 404 (not 500) for a user that does not exist, and 400 for a bad id', async () => {
    expect((await httpsGet(svc.port, '/users/99', pki.clientTls('home-page-service'))).status).toBe(404);
    expect((await httpsGet(svc.port, '/users/abc', pki.clientTls('home-page-service'))).status).toBe(400);
  });

  it('answers an unknown route with Nest\'s 404 JSON, the same on both adapters', async () => {
    const res = await httpsGet(svc.port, '/nope', pki.clientTls('home-page-service'));
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ message: 'Cannot GET /nope', error: 'Not Found', statusCode: 404 });
  });

  it('answers a malformed request inside the TLS connection with 400 and closes it (Fastify with its JSON body, Node for Express with none)', async () => {
    const socket = await tlsOpen(svc.port, pki.clientTls('home-page-service'));
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined);
      socket.write('GARBAGE\r\n\r\n');
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    if (adapter === 'fastify') expect(JSON.parse(body)).toEqual({ error: 'Bad Request', message: 'Client Error', statusCode: 400 });
    else expect(body).toBe('');
  });

  it('gives no HTTP answer to plain HTTP on the TLS port', async () => {
    const answer = await plainHttpExchange(svc.port);
    expect(answer).not.toMatch(/^HTTP\//);
  });

  it('refuses the handshake without a client certificate', async () => {
    expect(await handshakeOutcome(svc.port, pki.clientTls())).toBe('refused');
  });

  it.each([
    ['a certificate from an untrusted CA', 'untrusted'],
    ['an expired certificate', 'expired'],
    ['a certificate without the clientAuth EKU', 'server-only-eku'],
    ['a revoked certificate (CRL)', 'revoked'],
  ])('refuses the handshake with %s', async (_what, name) => {
    expect(await handshakeOutcome(svc.port, pki.clientTls(name), '/users/1')).toBe('refused');
  });

  it('refuses TLS 1.1 (a client that can speak it: see the control server)', async () => {
    // OpenSSL 3 only speaks TLS 1.1 at security level 0; allow it on the client side.
    const tls11 = { ...pki.clientTls('home-page-service'), minVersion: 'TLSv1' as const, maxVersion: 'TLSv1.1' as const, ciphers: 'DEFAULT@SECLEVEL=0' };
    const control = createTlsServer({ key: pki.certs['user-service'].issued.keyPem, cert: pki.certs['user-service'].issued.chainPem, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' });
    await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
    try {
      const socket = await tlsOpen((control.address() as AddressInfo).port, tls11);
      expect(socket.getProtocol()).toBe('TLSv1.1');
      socket.destroy();
    } finally {
      control.close();
    }
    await expect(tlsOpen(svc.port, tls11)).rejects.toThrow();
  });

  it('refuses client-initiated renegotiation over TLS 1.2', async () => {
    expect(await renegotiationOutcome(svc.port, pki.clientTls('home-page-service'))).not.toBe('renegotiated');
  });

  it('serves several requests on one keep-alive connection with one handshake', async () => {
    const agent = new Agent({ ...pki.clientTls('home-page-service'), keepAlive: true, maxSockets: 1 });
    const sockets = new Set<Socket>();
    try {
      for (let i = 0; i < 3; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port: svc.port, path: '/users/1', agent, servername: 'localhost' }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('socket', (s) => sockets.add(s));
          req.on('error', reject);
          req.end();
        });
        expect(status).toBe(200);
      }
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});
