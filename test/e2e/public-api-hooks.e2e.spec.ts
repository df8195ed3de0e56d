import { Controller, Get, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { copyFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer, request, type Agent, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  InjectMtlsOptions,
  MtlsConfigError,
  MtlsEvents,
  MtlsHttpClient,
  MtlsMaterialSource,
  MtlsModule,
  bindMtlsServer,
  type MtlsOptions,
  type MtlsOptionsView,
  type MtlsServerBinding,
  type TlsRefusal,
} from 'nest-mtls';
import { shutdownGracefully } from 'nest-mtls/app';
import { MtlsHealthIndicator } from 'nest-mtls/health';
import { keysIn } from '../support/reachable-secrets';
import { CapturingLogger, startMtlsApp, startWithOptions, type RunningApp } from '../support/start-app';
import { PASSWORD, TempDir, TestPki } from '../support/test-pki';
import { httpsGet } from '../support/tls-probe';
import { waitFor } from '../support/wait-for';

/**
 * What users asked the public API for, over real TLS: a TLS server built by
 * hand bound to the application's material (`bindMtlsServer`), the outbound
 * pool as one `https.Agent` that follows rotation, a terminus health
 * indicator for a `/health` of one's own, and the options in force without
 * their secrets (`@InjectMtlsOptions()`).
 */
let pki: TestPki;
beforeAll(async () => {
  pki = await TestPki.create();
});
afterAll(() => pki?.cleanup());

@Module({})
class EmptyModule {}

/** A Nest application context (no HTTP adapter of Nest's) with MtlsModule: what a server built by hand lives in. */
async function appContext(options: MtlsOptions): Promise<INestApplicationContext> {
  @Module({ imports: [MtlsModule.forRoot(options), EmptyModule] })
  class ContextModule {}
  return NestFactory.createApplicationContext(ContextModule, { logger: new CapturingLogger(), abortOnError: false });
}

/** Listens on 127.0.0.1, a free port; resolves with the port. */
function listen(server: HttpsServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('bindMtlsServer: a TLS server built by hand serves the application\'s mutual TLS', () => {
  let app: INestApplicationContext;
  let server: HttpsServer;
  let binding: MtlsServerBinding;
  let port: number;
  const refusals: TlsRefusal[] = [];

  beforeAll(async () => {
    app = await appContext(pki.pemOptions('user-service', { crlPath: pki.crlAll }));
    app.get(MtlsEvents).refusals.subscribe((r) => refusals.push(r));
    // No key, no certificate: nothing can complete a handshake until it is bound.
    server = createHttpsServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ subject: binding.identity(req.socket)?.subject ?? null }));
    });
    binding = bindMtlsServer(server, app);
    port = await listen(server);
  });

  afterAll(async () => {
    if (server.listening) await new Promise((r) => server.close(r));
    await app?.close();
  });

  it('admits home-page-service with its verified identity (the handler reads it from the binding)', async () => {
    const answer = await httpsGet(port, '/', pki.clientTls('home-page-service'));
    expect(answer).toMatchObject({ status: 200, json: { subject: 'CN=home-page-service,O=nest-mtls' } });
  });

  it('serves our certificate (the application\'s user-service one)', async () => {
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, servername: 'localhost', agent: false, ...pki.clientTls('home-page-service') }, (res) => {
        resolve(res.socket as TLSSocket);
        res.resume();
      });
      req.on('error', reject);
      req.end();
    });
    expect(socket.getPeerX509Certificate()!.serialNumber).toBe(pki.certs['user-service'].issued.certificate.serialNumber);
  });

  it('refuses a client without a certificate, or with an untrusted one, in the handshake, and tells MtlsEvents', async () => {
    await expect(httpsGet(port, '/', pki.clientTls())).rejects.toThrow(/certificate required|alert|socket hang up|ECONNRESET/i);
    await expect(httpsGet(port, '/', pki.clientTls('untrusted'))).rejects.toThrow();
    await waitFor(() => refusals.some((r) => r.reason === 'no_certificate') && refusals.some((r) => r.reason === 'unknown_ca'), 'both refusals in MtlsEvents');
  });

  it('applies the revocation gate: a revoked certificate gets no answer', async () => {
    await expect(httpsGet(port, '/', pki.clientTls('revoked'))).rejects.toThrow();
    await waitFor(() => refusals.some((r) => r.reason === 'revoked'), 'the revoked refusal in MtlsEvents');
  });

  it('refuses what it cannot bind, naming why', () => {
    expect(() => bindMtlsServer(createHttpServer() as never, app)).toThrow(new MtlsConfigError('bindMtlsServer', 'needs a TLS server (tls.createServer, https.createServer): a plain TCP or HTTP server cannot serve mutual TLS'));
    expect(() => bindMtlsServer(server, app)).toThrow(new MtlsConfigError('bindMtlsServer', 'this server is bound already'));
  });

  it('is drained by graceful shutdown with the application\'s other listeners', async () => {
    const report = await shutdownGracefully(app, { timeoutMs: 5000 });
    expect(report.listeners.map((l) => l.listener)).toEqual([`https 127.0.0.1:${port}`]);
    expect(server.listening).toBe(false);
  });
});

describe('bindMtlsServer without MtlsModule', () => {
  it('stops with one line naming what is missing', async () => {
    const context = await NestFactory.createApplicationContext(EmptyModule, { logger: false });
    try {
      expect(() => bindMtlsServer(createHttpsServer(), context)).toThrow(/^bindMtlsServer: the application has no MtlsModule/);
    } finally {
      await context.close();
    }
  });
});

/** One GET through `agent`: the serial number of the client certificate the upstream saw, and the client port of the connection. */
function callThrough(agent: Agent, port: number): Promise<{ serial: string; clientPort: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', servername: 'localhost', agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('MtlsHttpClient.httpsAgent(): one https.Agent for other HTTP clients, following rotation', () => {
  const files = new TempDir('nest-mtls-agent-');
  let upstream: HttpsServer;
  let upstreamPort: number;
  const closedClientPorts = new Set<number>();
  let svc: RunningApp;

  beforeAll(async () => {
    // An upstream of our own making: demands a client certificate, says which one and from which port it came.
    const tls = pki.clientTls('user-service');
    upstream = createHttpsServer({ key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 60_000 }, (req, res) => {
      const socket = req.socket as TLSSocket;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ serial: socket.getPeerX509Certificate()!.serialNumber, clientPort: socket.remotePort }));
    });
    upstream.on('secureConnection', (socket: TLSSocket) => {
      const clientPort = socket.remotePort!;
      socket.once('close', () => closedClientPorts.add(clientPort));
    });
    upstreamPort = await listen(upstream);
    copyFileSync(pki.certs['home-page-service'].chain, files.path('tls.crt'));
    copyFileSync(pki.certs['home-page-service'].key, files.path('tls.key'));
    svc = await startWithOptions({ certPath: files.path('tls.crt'), keyPath: files.path('tls.key'), trustStorePath: pki.trustStore, watch: false }, []);
  });

  afterAll(async () => {
    await svc?.close();
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
    files.cleanup();
  });

  it('presents our certificate, keeps the connection alive, and after a rotation presents the new one on a new connection; the old one closes', async () => {
    const client = await svc.app.resolve(MtlsHttpClient);
    const agent = client.httpsAgent();
    expect(agent).toBe((await svc.app.resolve(MtlsHttpClient)).httpsAgent()); // one agent for the application

    const first = await callThrough(agent, upstreamPort);
    expect(first.serial).toBe(pki.certs['home-page-service'].issued.certificate.serialNumber);
    expect((await callThrough(agent, upstreamPort)).clientPort).toBe(first.clientPort); // kept alive

    const next = await pki.issue('home-page-service-next', { subject: 'CN=home-page-service,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1'] });
    copyFileSync(next.chain, files.path('tls.crt'));
    copyFileSync(next.key, files.path('tls.key'));
    expect((await svc.app.get(MtlsMaterialSource).reload('rotation test')).result).toBe('success');

    const after = await callThrough(agent, upstreamPort);
    expect(after.serial).toBe(next.issued.certificate.serialNumber);
    expect(after.clientPort).not.toBe(first.clientPort);
    await waitFor(() => closedClientPorts.has(first.clientPort), 'the connection of the old certificate to close');
  });

  it('holds no private key, nor does the client: the pools carry a Node secure context', async () => {
    const client = await svc.app.resolve(MtlsHttpClient);
    await callThrough(client.httpsAgent(), upstreamPort);
    await client.request(`https://localhost:${upstreamPort}/`);
    expect(keysIn(client.httpsAgent())).toEqual([]);
    expect(keysIn(client)).toEqual([]);
  });
});

@Controller()
class OwnHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mtls: MtlsHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.mtls.isHealthy('mtls')]);
  }
}

describe('MtlsHealthIndicator (nest-mtls/health) in a /health of one\'s own', () => {
  const files = new TempDir('nest-mtls-health-');
  let svc: RunningApp;

  beforeAll(async () => {
    copyFileSync(pki.certs['user-service'].chain, files.path('tls.crt'));
    copyFileSync(pki.certs['user-service'].key, files.path('tls.key'));
    @Module({
      imports: [MtlsModule.forRoot({ certPath: files.path('tls.crt'), keyPath: files.path('tls.key'), trustStorePath: pki.trustStore, crlPath: pki.crlAll, watch: false }), TerminusModule],
      controllers: [OwnHealthController],
      providers: [MtlsHealthIndicator],
    })
    class OwnHealthModule {}
    svc = await startMtlsApp(OwnHealthModule);
  });

  afterAll(async () => {
    await svc?.close();
    files.cleanup();
  });

  it('is up (200) with our certificate, the trust store, the CRLs and the last reload under its key', async () => {
    const res = await httpsGet(svc.port, '/health', pki.clientTls('home-page-service'));
    expect(res.status).toBe(200);
    const mtls = (res.json as { info: { mtls: Record<string, Record<string, unknown>> } }).info.mtls;
    expect(mtls.status).toBe('up');
    expect(mtls.certificate).toMatchObject({ status: 'up', subject: 'CN=user-service,O=nest-mtls', expiresSoon: false, roles: ['serverAuth'] });
    expect(mtls.trustStore).toEqual({ status: 'up', size: 1 });
    expect(mtls.crls).toMatchObject({ status: 'up', configured: true, failurePolicy: 'closed', count: 2 });
    expect(mtls.reload).toMatchObject({ status: 'up', generation: 1, lastResult: 'none' });
    expect(res.body).not.toMatch(/PRIVATE KEY|test-pass/);
  });

  it('is down (503) when the last reload failed, saying which check and why', async () => {
    files.write('tls.crt', 'not a certificate');
    expect((await svc.app.get(MtlsMaterialSource).reload('health test')).result).toBe('failure');
    const res = await httpsGet(svc.port, '/health', pki.clientTls('home-page-service'));
    expect(res.status).toBe(503);
    const mtls = (res.json as { error: { mtls: Record<string, unknown> & { reload: Record<string, unknown> } } }).error.mtls;
    expect(mtls).toMatchObject({ status: 'down', message: 'reload: the last reload failed; still serving generation 1' });
    expect(mtls.reload).toMatchObject({ status: 'down', lastResult: 'failure' });
  });
});

@Injectable()
class OptionsReader {
  constructor(@InjectMtlsOptions() readonly options: MtlsOptionsView) {}
}

describe('@InjectMtlsOptions(): the options in force, without secrets', () => {
  let svc: RunningApp;

  beforeAll(async () => {
    svc = await startWithOptions({ keyStorePath: pki.certs['user-service'].p12, keyStorePassword: PASSWORD, trustStorePath: pki.trustStore, dnFormat: 'jdk' }, [], [OptionsReader]);
  });

  afterAll(() => svc?.close());

  it('injects the resolved options (defaults applied), frozen, without the key store password', () => {
    const { options } = svc.app.get(OptionsReader);
    expect(options).toMatchObject({ keyStorePath: pki.certs['user-service'].p12, needClientAuth: true, dnFormat: 'jdk', supportedProtocols: ['TLSv1.2', 'TLSv1.3'] });
    expect('keyStorePassword' in options).toBe(false);
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.supportedProtocols)).toBe(true);
  });

  it('nothing public reaches the password: the options view, the snapshot, the material source (walked, symbols included)', () => {
    expect(keysIn(svc.app.get(OptionsReader).options, [PASSWORD])).toEqual([]);
    expect(keysIn(svc.app.get(MtlsMaterialSource).current(), [PASSWORD])).toEqual([]);
    expect(keysIn(svc.app.get(MtlsMaterialSource), [PASSWORD])).toEqual([]);
  });

  it('a PEM source is not in the view either (its read() returns our key)', async () => {
    const tls = pki.clientTls('user-service');
    const source = await MtlsMaterialSource.create({ source: { name: 'memory', read: () => ({ key: tls.key!, cert: tls.cert!, ca: tls.ca }) } });
    try {
      expect('source' in source.current().options).toBe(false);
      expect(keysIn(source)).toEqual([]);
    } finally {
      source.close();
    }
  });
});
