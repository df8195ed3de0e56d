import { Module, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { WsAdapter } from '@nestjs/platform-ws';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ClientCert, MtlsMaterialSource, MtlsModule, RequireClientCert, type MtlsOptions, type MtlsReloadResult } from 'nest-mtls';
import { filter, firstValueFrom } from 'rxjs';
import WebSocket from 'ws';
import { replaceFile } from '../support/openssl-ca';
import { CapturingLogger, HTTP_ADAPTERS, mtlsAdapter, type HttpAdapterName } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { waitFor, waitForLine } from '../support/wait-for';

/** The article's words, as the HTTP 403 says them. */
const NOT_RECOGNIZED = 'Certificate subject is not recognized!';

/** How many times the server read the peer certificate of each connection since `countReads` wrapped it. */
const peerReads = new WeakMap<TLSSocket, number>();

function countReads(socket: TLSSocket): void {
  if (peerReads.has(socket)) return;
  peerReads.set(socket, 0);
  const original = socket.getPeerCertificate.bind(socket);
  socket.getPeerCertificate = ((detailed?: boolean) => {
    peerReads.set(socket, (peerReads.get(socket) ?? 0) + 1);
    return original(detailed as true);
  });
}

type WsClient = WebSocket & { _socket: TLSSocket };

/** A gateway with a guarded handler, an unguarded one, and the identity in the handler. */
@WebSocketGateway({ path: '/users' })
class UsersGateway {
  @RequireClientCert(/^CN=home-page-service(,|$)/)
  @SubscribeMessage('get_user')
  getUser(@MessageBody() body: { id: number }, @ClientCert('subject') subject: string | undefined, @ConnectedSocket() client: WsClient) {
    countReads(client._socket);
    return { event: 'user', data: { id: body.id, name: `user ${body.id}`, caller: subject, peerReads: peerReads.get(client._socket) } };
  }

  @RequireClientCert({ cn: 'event-service' })
  @SubscribeMessage('events_only')
  eventsOnly(@MessageBody() body: { id: number }, @ClientCert('subject') subject: string | undefined) {
    return { event: 'events_only', data: { id: body.id, caller: subject } };
  }

  @SubscribeMessage('ping')
  ping() {
    return { event: 'pong', data: 'pong' };
  }
}

/** A gateway guarded as a whole (class level). */
@RequireClientCert(/^CN=home-page-service(,|$)/)
@WebSocketGateway({ path: '/admin' })
class AdminGateway {
  @SubscribeMessage('stats')
  stats(@ClientCert('commonName') cn: string | undefined) {
    return { event: 'stats', data: { cn } };
  }
}

interface Running {
  port: number;
  logs: CapturingLogger;
  app: Awaited<ReturnType<typeof start>>['app'];
  close(): Promise<void>;
}

async function start(options: MtlsOptions, adapter: HttpAdapterName) {
  @Module({ imports: [MtlsModule.forRoot(options)], providers: [UsersGateway, AdminGateway] })
  class WsTestModule {}
  const logs = new CapturingLogger();
  const moduleRef = await Test.createTestingModule({ imports: [WsTestModule as Type] }).setLogger(logs).compile();
  const app = moduleRef.createNestApplication(mtlsAdapter(adapter), { logger: logs, abortOnError: false });
  app.useWebSocketAdapter(new WsAdapter(app));
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, logs, close: () => app.close() };
}

/** A wss client to `path` presenting `name`'s certificate (none when undefined); resolves once open, rejects when the handshake fails. */
function connect(pki: TestPki, port: number, path: string, name?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://localhost:${port}${path}`, pki.clientTls(name));
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Sends `{ event, data }` and resolves with the next message the server sends. */
function ask(ws: WebSocket, event: string, data: unknown): Promise<{ event: string; data: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${event}`)), 10_000);
    ws.once('message', (raw) => {
      clearTimeout(timer);
      resolve(JSON.parse((raw as Buffer).toString()) as { event: string; data: Record<string, unknown> });
    });
    ws.send(JSON.stringify({ event, data }));
  });
}

/** Resolves with the close code once the connection closes. */
function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
}

describe.each(HTTP_ADAPTERS)('WebSockets (@nestjs/platform-ws) on the mTLS server over %s', (adapter) => {
  let pki: TestPki;
  let svc: Running;
  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await start(pki.pemOptions('user-service'), adapter);
  });
  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('home-page-service gets the user; the handler has its identity (@ClientCert)', async () => {
    const ws = await connect(pki, svc.port, '/users', 'home-page-service');
    try {
      const answer = await ask(ws, 'get_user', { id: 7 });
      expect(answer).toEqual({ event: 'user', data: expect.objectContaining({ id: 7, name: 'user 7' }) as unknown });
      expect(answer.data.caller).toMatch(/^CN=home-page-service(,|$)/);
    } finally {
      ws.close();
    }
  });

  it('event-service is refused on a guarded handler with the article\'s message and nothing of the policy; its connection stays usable', async () => {
    const ws = await connect(pki, svc.port, '/users', 'event-service');
    try {
      const answer = await ask(ws, 'get_user', { id: 7 });
      expect(answer).toMatchObject({ event: 'exception', data: { status: 'error', message: NOT_RECOGNIZED } });
      expect(JSON.stringify(answer)).not.toMatch(/home-page|CN=|rule|policy/);
      await waitForLine(svc.logs.lines, /^WARN refused WS get_user from 127\.0\.0\.1:\d+: .*CN=event-service/);
      // Another handler judges by its own policy: the refusal above does not stick to the connection, nor an admission.
      expect((await ask(ws, 'events_only', { id: 1 })).data.caller).toMatch(/^CN=event-service/);
      expect(await ask(ws, 'ping', null)).toEqual({ event: 'pong', data: 'pong' });
    } finally {
      ws.close();
    }
  });

  it('an admission on one handler does not open another: home-page-service is refused on events_only on the same connection', async () => {
    const ws = await connect(pki, svc.port, '/users', 'home-page-service');
    try {
      expect((await ask(ws, 'get_user', { id: 1 })).event).toBe('user');
      expect(await ask(ws, 'events_only', { id: 1 })).toMatchObject({ event: 'exception', data: { status: 'error', message: NOT_RECOGNIZED } });
    } finally {
      ws.close();
    }
  });

  it('a gateway guarded at class level admits home-page-service and refuses event-service', async () => {
    const home = await connect(pki, svc.port, '/admin', 'home-page-service');
    const other = await connect(pki, svc.port, '/admin', 'event-service');
    try {
      expect(await ask(home, 'stats', {})).toEqual({ event: 'stats', data: { cn: 'home-page-service' } });
      expect(await ask(other, 'stats', {})).toMatchObject({ event: 'exception', data: { status: 'error', message: NOT_RECOGNIZED } });
    } finally {
      home.close();
      other.close();
    }
  });

  it('without a client certificate the TLS handshake is refused: no WebSocket opens', async () => {
    await expect(connect(pki, svc.port, '/users')).rejects.toThrow(/certificate|socket hang up|ECONNRESET|handshake/i);
  });

  it('hostile: 200 messages on one connection read the peer certificate once per connection, not per message', async () => {
    const ws = await connect(pki, svc.port, '/users', 'home-page-service');
    try {
      const first = await ask(ws, 'get_user', { id: 0 }); // wraps the server socket's getPeerCertificate
      expect(first.event).toBe('user');
      let last = first;
      for (let i = 1; i <= 200; i++) last = await ask(ws, 'get_user', { id: i });
      expect(last.data).toMatchObject({ id: 200, peerReads: 0 });
    } finally {
      ws.close();
    }
  });

  it('hostile: a flood of refused messages and garbage is answered or dropped, never crashes the server', async () => {
    const ws = await connect(pki, svc.port, '/users', 'event-service');
    let exceptions = 0;
    ws.on('message', (raw) => {
      if ((JSON.parse((raw as Buffer).toString()) as { event: string }).event === 'exception') exceptions++;
    });
    for (let i = 0; i < 1000; i++) ws.send(JSON.stringify({ event: 'get_user', data: { id: i } }));
    for (let i = 0; i < 50; i++) ws.send(i % 2 ? 'not json {' : JSON.stringify({ event: 'get_user', data: 'x'.repeat(i) }));
    // Every refused get_user (1000, and 25 with a string as data) is answered; the garbage is dropped.
    await waitFor(() => exceptions >= 1025, '1025 exception events', 30_000);
    const after = await ask(ws, 'ping', null);
    expect(after).toEqual({ event: 'pong', data: 'pong' });
    // The flood is summarised in the log (one line, then a count per 10 s), not a line per message.
    expect(svc.logs.lines.filter((l) => /^WARN refused WS get_user from 127\.0\.0\.1/.test(l)).length).toBeLessThan(10);
    ws.close();
    const again = await connect(pki, svc.port, '/users', 'home-page-service');
    expect((await ask(again, 'get_user', { id: 1 })).event).toBe('user');
    again.close();
  });
});

describe.each(HTTP_ADAPTERS)('WebSockets over %s: revocation of an open connection', (adapter) => {
  let pki: TestPki;
  beforeAll(async () => (pki = await TestPki.create()));
  afterAll(() => pki?.cleanup());

  it('a CRL file rewritten under the service closes the revoked caller\'s WebSocket with 1008 and a log line; the others stay open', async () => {
    await pki.issue('ws-crl-caller', { subject: 'CN=home-page-service,OU=ws-crl-caller,O=nest-mtls' });
    const crlPath = await pki.writeCrls('ws-live.pem', [pki.root], [pki.global]);
    const svc = await start(pki.pemOptions('user-service', { crlPath }), adapter);
    try {
      const source = svc.app.get(MtlsMaterialSource);
      const caller = await connect(pki, svc.port, '/users', 'ws-crl-caller');
      const bystander = await connect(pki, svc.port, '/users', 'home-page-service');
      const callerClosed = closed(caller);
      expect((await ask(caller, 'get_user', { id: 1 })).event).toBe('user');

      const reloaded = firstValueFrom(source.reloads.pipe(filter((r: MtlsReloadResult) => r.result === 'success')));
      const serial = pki.certs['ws-crl-caller'].issued.certificate.serialNumber;
      await pki.writeCrls('ws-live-next.pem', [pki.root], [pki.global, { revoked: [{ serialNumber: serial }] }]);
      replaceFile(crlPath, pki.read('ws-live-next.pem'));
      await reloaded;
      expect(await callerClosed).toEqual({ code: 1008, reason: 'client certificate revoked' });
      await waitForLine(svc.logs.lines, /^WARN open connection from 127\.0\.0\.1:\d+ closed: revoked \(serial [0-9A-F]+.*WebSocket closed with 1008 \(policy violation\)/);
      expect((await ask(bystander, 'get_user', { id: 2 })).event).toBe('user');
      bystander.close();
    } finally {
      await svc.close();
    }
  });
});

describe('WebSockets: rotation of the server\'s material', () => {
  let pki: TestPki;
  beforeAll(async () => (pki = await TestPki.create()));
  afterAll(() => pki?.cleanup());

  it('an open WebSocket is not closed by a rotation (as HTTP keep-alive: open connections keep theirs); new ones get the new certificate', async () => {
    const svc = await start(pki.pemOptions('user-service'), 'express');
    try {
      const ws = await connect(pki, svc.port, '/users', 'home-page-service');
      expect((await ask(ws, 'get_user', { id: 1 })).event).toBe('user');
      const next = await pki.issue('user-service-next', { subject: 'CN=user-service,OU=next,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1'] });
      const files = pki.certs['user-service'];
      replaceFile(files.key, pki.read('user-service-next.key'));
      replaceFile(files.chain, pki.read('user-service-next.chain.pem'));
      const result = await svc.app.get(MtlsMaterialSource).reload('test rotation', { force: true });
      expect(result.result).toBe('success');
      expect((await ask(ws, 'get_user', { id: 2 })).event).toBe('user');
      const fresh = await connect(pki, svc.port, '/users', 'home-page-service');
      const serverCert = (fresh as WebSocket & { _socket: TLSSocket })._socket.getPeerCertificate();
      expect(serverCert.serialNumber).toBe(next.issued.certificate.serialNumber.toUpperCase());
      expect((await ask(fresh, 'get_user', { id: 3 })).event).toBe('user');
      fresh.close();
      expect(ws.readyState).toBe(WebSocket.OPEN);
      ws.close();
    } finally {
      await svc.close();
    }
  });
});
