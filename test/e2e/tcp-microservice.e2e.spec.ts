import { Controller, Module, type INestApplication, type INestMicroservice } from '@nestjs/common';
import { ClientProxyFactory, ClientsModule, MessagePattern, Payload, Transport, type ClientProxy } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { lastValueFrom } from 'rxjs';
import {
  ClientCert,
  MtlsConfigError,
  MtlsEvents,
  MtlsExpressAdapter,
  MtlsMaterialSource,
  MtlsModule,
  MtlsServing,
  RequireClientCert,
  type ClientIdentity,
  type MtlsOptions,
} from 'nest-mtls';
import { mtlsServing, revocationFollowing } from 'nest-mtls/internal';
import { MtlsTcpClient, MtlsTcpServer, mtlsTcpClient, mtlsTcpClientTlsOptions, mtlsTcpMicroservice } from 'nest-mtls/microservices';
import { UsersController } from '../../apps/user-service/src/users.controller';
import { UsersService } from '../../apps/user-service/src/users.service';
import { scrape, sample, samplesOf } from '../support/admin-app';
import { childBaseEnv, freePort, serviceMain, startService, type RunningService } from '../support/spawn-service';
import { CapturingLogger } from '../support/start-app';
import { floodFromChild, longestAnswerWhile, rawRpc, rawRpcBatch, startMtlsMicroservice, type RunningMicroservice } from '../support/start-microservice';
import { keysIn } from '../support/reachable-secrets';
import { SecretVolume } from '../support/secret-volume';
import { TestPki } from '../support/test-pki';
import { closedWithin, httpsGet, tlsOpen } from '../support/tls-probe';
import { waitForLine } from '../support/wait-for';

const ADA = { id: 1, name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0001' };
const GET_USER = { cmd: 'get_user' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Any verified caller; answers with the identity @ClientCert() gives the handler. */
@Controller()
@RequireClientCert()
class WhoAmIController {
  @MessagePattern({ cmd: 'whoami' })
  whoami(@ClientCert() caller: ClientIdentity, @ClientCert('subject') subject: string): { subject: string; same: boolean; fingerprint: string } {
    return { subject, same: caller.subject === subject, fingerprint: caller.fingerprint256 };
  }

  @MessagePattern({ cmd: 'slow' })
  async slow(@Payload() ms: number, @ClientCert('subject') subject: string): Promise<string> {
    await sleep(ms);
    return subject;
  }
}

function moduleWith(options: MtlsOptions) {
  @Module({ imports: [MtlsModule.forRoot(options)], controllers: [UsersController, WhoAmIController], providers: [UsersService] })
  class TcpTestModule {}
  return TcpTestModule;
}

let volumes = 0;

/**
 * `name`'s material in a Kubernetes-style secret directory (watching off, so the
 * test decides when `reload()` takes it): `options` for MtlsModule, `put` to
 * rotate to another certificate (and trust store).
 */
function materialVolume(pki: TestPki, name: string) {
  const volume = new SecretVolume(join(pki.dir, `volume-${++volumes}`));
  const put = (certName: string, trust = pki.root.certPem) =>
    volume.update({ 'tls.crt': pki.certs[certName].issued.chainPem, 'tls.key': pki.certs[certName].issued.keyPem, 'ca.crt': trust });
  put(name);
  const options: MtlsOptions = { certPath: volume.path('tls.crt'), keyPath: volume.path('tls.key'), trustStorePath: volume.path('ca.crt'), watch: false };
  return { options, put };
}

/** Rotates `source`'s files to `certName` (and `trust`) and reloads; fails unless the reload took them. */
async function rotate(source: MtlsMaterialSource, volume: ReturnType<typeof materialVolume>, certName: string, trust?: string): Promise<void> {
  volume.put(certName, trust);
  expect(await source.reload()).toMatchObject({ result: 'success' });
}

function serialOf(pem: string): string {
  return new X509Certificate(pem).serialNumber;
}

/**
 * Over TLS 1.2: asks to renegotiate, then sends a message (OpenSSL starts the
 * new handshake with the next record). `answered` when the server went along
 * and answered the message; `ended` when it closed the connection instead.
 */
async function renegotiateThenAsk(port: number, tls: object): Promise<'answered' | 'ended' | 'left open'> {
  const socket = await tlsOpen(port, { ...tls, maxVersion: 'TLSv1.2' });
  try {
    return await new Promise((resolve) => {
      // The server's FIN arrives while our message waits behind the refused handshake: 'end', not 'close'.
      socket.once('end', () => resolve('ended'));
      socket.once('close', () => resolve('ended'));
      socket.on('error', () => undefined);
      socket.once('data', () => resolve('answered'));
      setTimeout(() => resolve('left open'), 5000).unref();
      socket.renegotiate({ rejectUnauthorized: true }, () => undefined);
      const body = JSON.stringify({ pattern: GET_USER, data: { id: 1 }, id: 'r' });
      socket.write(`${body.length}#${body}`);
    });
  } finally {
    socket.destroy();
  }
}

describe('Nest microservice over TCP with mTLS (createNestMicroservice + mtlsTcpMicroservice)', () => {
  let pki: TestPki;
  let svc: RunningMicroservice;
  const clients: Array<{ close(): unknown }> = [];

  /** A real Nest ClientProxy presenting `who`'s certificate (its own material source, as in another service). */
  async function clientOf(who: string): Promise<MtlsTcpClient> {
    const source = await MtlsMaterialSource.create(pki.pemOptions(who));
    const client = new MtlsTcpClient({ source, host: 'localhost', port: svc.port });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startMtlsMicroservice(moduleWith(pki.pemOptions('user-service')));
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await svc?.close();
    pki?.cleanup();
  });

  it('home-page-service gets the user, as GET /users/1 gives it', async () => {
    const client = await clientOf('home-page-service');
    await expect(lastValueFrom(client.send(GET_USER, { id: 1 }))).resolves.toEqual(ADA);
  });

  it("event-service (trusted, not admitted) gets an RPC error with the article's message, and the guard logs why", async () => {
    const client = await clientOf('event-service');
    await expect(lastValueFrom(client.send(GET_USER, { id: 1 }))).rejects.toEqual({ status: 'error', message: 'Certificate subject is not recognized!' });
    expect(svc.logs.lines.join('\n')).toMatch(/WARN refused RPC \{"cmd":"get_user"\} from 127\.0\.0\.1:\d+: policy refused \(rule subject\): unexpected subject DN CN=event-service,O=nest-mtls/);
  });

  it('a bad payload or an unknown user is an RPC error saying so, not a crash', async () => {
    const client = await clientOf('home-page-service');
    await expect(lastValueFrom(client.send(GET_USER, { id: 'x' }))).rejects.toEqual({ status: 'error', message: 'id must be a whole number' });
    await expect(lastValueFrom(client.send(GET_USER, { id: 99 }))).rejects.toEqual({ status: 'error', message: 'user 99 not found' });
  });

  it('@ClientCert() in a message handler is the identity the guard admitted', async () => {
    const client = await clientOf('event-service');
    const answer = await lastValueFrom(client.send<{ subject: string; same: boolean; fingerprint: string }>({ cmd: 'whoami' }, {}));
    expect(answer).toEqual({
      subject: 'CN=event-service,O=nest-mtls',
      same: true,
      fingerprint: new X509Certificate(pki.certs['event-service'].issued.certPem).fingerprint256,
    });
  });

  it('the same answers for a raw tls.connect client (allowed and refused)', async () => {
    expect(await rawRpc(svc.port, pki.clientTls('home-page-service'), GET_USER, { id: 1 })).toEqual({ answer: { id: 'raw-1', response: ADA, isDisposed: true } });
    expect(await rawRpc(svc.port, pki.clientTls('event-service'), GET_USER, { id: 1 })).toMatchObject({
      answer: { err: { status: 'error', message: 'Certificate subject is not recognized!' } },
    });
  });

  it.each([
    ['no certificate', undefined, 'no_certificate'],
    ['an untrusted certificate', 'untrusted', 'unknown_ca'],
    ['an expired certificate', 'expired', 'expired'],
  ])('%s: the handshake fails (no answer), and the refusal is logged with its reason code', async (_what, who, reason) => {
    const before = svc.logs.lines.length;
    const outcome = await rawRpc(svc.port, pki.clientTls(who), GET_USER, { id: 1 });
    expect(outcome).toHaveProperty('failed');
    await waitForLine(svc.logs.lines, new RegExp(`WARN TLS handshake from 127\\.0\\.0\\.1:\\d+ refused: ${reason} `), 10_000, before);
  });

  it("no certificate through a real Nest ClientProxy (ClientTCP trusting our CA): the call fails, nothing is answered", async () => {
    const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: 'localhost', port: svc.port, tlsOptions: pki.clientTls() } });
    clients.push(client);
    await expect(lastValueFrom(client.send(GET_USER, { id: 1 }))).rejects.toBeDefined();
  });

  it('plain TCP (no TLS) to the port gets nothing and is logged as a protocol refusal', async () => {
    const { connect } = await import('node:net');
    const before = svc.logs.lines.length;
    const body = JSON.stringify({ pattern: GET_USER, data: { id: 1 }, id: 'plain' });
    const got = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: svc.port }, () => socket.write(`${body.length}#${body}`));
      let data = '';
      socket.on('data', (d) => (data += d.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(data));
    });
    expect(got).not.toContain('Ada');
    await waitForLine(svc.logs.lines, /refused: protocol/, 10_000, before);
  });

  it('client-initiated renegotiation (TLS 1.2) ends the connection and is logged', async () => {
    const before = svc.logs.lines.length;
    expect(await renegotiateThenAsk(svc.port, pki.clientTls('home-page-service'))).toBe('ended');
    await waitForLine(svc.logs.lines, /WARN TLS renegotiation from 127\.0\.0\.1:\d+ refused: renegotiation/, 10_000, before);
  });

  it('mtlsTcpClientTlsOptions(source) for a plain ClientsModule/ClientProxy: presents our certificate, trusts our store', async () => {
    const source = await MtlsMaterialSource.create(pki.pemOptions('home-page-service'));
    const tlsOptions = mtlsTcpClientTlsOptions(source, 'localhost');
    expect(tlsOptions).toMatchObject({ rejectUnauthorized: true, servername: 'localhost' });
    expect(keysIn(tlsOptions)).toEqual([]); // a secure context, not the key as text
    const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: svc.port, tlsOptions } });
    clients.push(client);
    await expect(lastValueFrom(client.send(GET_USER, { id: 1 }))).resolves.toEqual(ADA);
  });

  it('mtlsTcpClient() in ClientsModule.registerAsync: an injectable ClientProxy with the module\'s material', async () => {
    @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('home-page-service')), ClientsModule.registerAsync([mtlsTcpClient('USER_SERVICE', { host: 'localhost', port: svc.port })])] })
    class CallerModule {}
    const caller = await Test.createTestingModule({ imports: [CallerModule] }).compile();
    try {
      const users = caller.get<ClientProxy>('USER_SERVICE');
      expect(users).toBeInstanceOf(MtlsTcpClient);
      await expect(lastValueFrom(users.send(GET_USER, { id: 1 }))).resolves.toEqual(ADA);
    } finally {
      await caller.close();
    }
  });

  it('a client whose certificate lacks clientAuth is refused when it is made', async () => {
    const source = await MtlsMaterialSource.create(pki.pemOptions('server-only-eku'));
    expect(() => new MtlsTcpClient({ source, host: 'localhost', port: svc.port })).toThrow(MtlsConfigError);
    expect(() => new MtlsTcpClient({ source, host: 'localhost', port: svc.port })).toThrow(/clientAuth/);
  });
});

describe('renegotiation control (allowRenegotiation: true)', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await TestPki.create();
  });
  afterAll(() => pki?.cleanup());

  it('the same client renegotiates and is answered: the refusal above is the server\'s doing', async () => {
    const lenient = await startMtlsMicroservice(moduleWith(pki.pemOptions('user-service', { allowRenegotiation: true })));
    try {
      expect(await renegotiateThenAsk(lenient.port, pki.clientTls('home-page-service'))).toBe('answered');
    } finally {
      await lenient.close();
    }
  });

});

describe('the TCP transport without material', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await TestPki.create();
  });
  afterAll(() => pki?.cleanup());

  it('MtlsTcpServer without a material source refuses to listen, and its server is fail-closed', async () => {
    const server = new MtlsTcpServer(undefined as unknown as MtlsServing, { host: '127.0.0.1', port: 0 });
    const err = await new Promise<unknown>((resolve) => server.listen((e) => resolve(e)));
    expect(err).toBeInstanceOf(MtlsConfigError);
    expect((err as Error).message).toMatch(/^MtlsTcpServer: no MtlsModule material/);
    const tls = server.unwrap<Server>();
    expect(tls.listening).toBe(false);
    // Even forced to listen, the TLS server it made has no certificate: no handshake completes.
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    try {
      const outcome = await rawRpc((tls.address() as AddressInfo).port, pki.clientTls('home-page-service'), GET_USER, { id: 1 });
      expect(outcome).toHaveProperty('failed');
    } finally {
      server.close();
    }
  });

  it('Nest does not start it: app.listen() rejects with the MtlsConfigError', async () => {
    @Module({ controllers: [WhoAmIController] })
    class NoMtlsModule {}
    const logs = new CapturingLogger();
    const moduleRef = await Test.createTestingModule({ imports: [NoMtlsModule] }).setLogger(logs).compile();
    const app = moduleRef.createNestMicroservice({ strategy: new MtlsTcpServer(undefined as unknown as MtlsServing, { host: '127.0.0.1', port: 0 }), logger: logs });
    await expect(app.listen()).rejects.toThrow(/MtlsTcpServer: no MtlsModule material/);
    await app.close();
  });

  it('mtlsTcpMicroservice() in an application without MtlsModule stops it when the transport is made', async () => {
    @Module({ controllers: [WhoAmIController] })
    class NoMtlsModule {}
    const logs = new CapturingLogger();
    const moduleRef = await Test.createTestingModule({ imports: [NoMtlsModule] }).setLogger(logs).compile();
    expect(() => moduleRef.createNestMicroservice({ ...mtlsTcpMicroservice({ host: '127.0.0.1', port: 0 }), logger: logs })).toThrow(/MtlsServing/);
  });

  it('tlsOptions given by hand are refused (MtlsModule supplies them)', () => {
    expect(() => new MtlsTcpServer(undefined as unknown as MtlsServing, { tlsOptions: {} } as never)).toThrow(/do not pass tlsOptions/);
  });

  it('our certificate must allow serverAuth to serve TCP', async () => {
    const options = pki.pemOptions('client-only-eku');
    const source = await MtlsMaterialSource.create(options);
    const revocation = revocationFollowing(source, options);
    try {
      expect(() => new MtlsTcpServer(mtlsServing(source, new MtlsEvents(), revocation), { host: '127.0.0.1', port: 0 })).toThrow(/serverAuth/);
    } finally {
      revocation.close();
      source.close();
    }
  });
});

describe('first-message deadline (requestHeaderTimeoutMs) on the TCP transport', () => {
  let pki: TestPki;
  let svc: RunningMicroservice;
  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startMtlsMicroservice(moduleWith(pki.pemOptions('user-service', { requestHeaderTimeoutMs: 500 })));
  });
  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('a connection that finishes its handshake and sends nothing is closed and logged as timeout', async () => {
    const before = svc.logs.lines.length;
    const socket = await tlsOpen(svc.port, pki.clientTls('home-page-service'));
    const started = Date.now();
    await new Promise((resolve) => {
      socket.on('error', () => undefined);
      socket.once('close', resolve);
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(svc.logs.lines.slice(before).join('\n')).toMatch(/WARN connection from 127\.0\.0\.1:\d+ refused: timeout \(no message within 500 ms of the handshake\)/);
  });

  it('a connection that sent a message may stay idle between calls (ClientTCP keeps one connection)', async () => {
    const source = await MtlsMaterialSource.create(pki.pemOptions('home-page-service'));
    const client = new MtlsTcpClient({ source, host: 'localhost', port: svc.port });
    try {
      await expect(lastValueFrom(client.send(GET_USER, { id: 1 }))).resolves.toEqual(ADA);
      const first = client.unwrap<TLSSocket>();
      await sleep(1000);
      await expect(lastValueFrom(client.send(GET_USER, { id: 1 }))).resolves.toEqual(ADA);
      expect(client.unwrap<TLSSocket>()).toBe(first);
    } finally {
      client.close();
    }
  });
});

describe('rotation on the TCP transport and its client', () => {
  let pki: TestPki;
  let svc: RunningMicroservice;
  let serverVolume: ReturnType<typeof materialVolume>;
  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('user-service-next', { subject: 'CN=user-service,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1', '::1'] });
    serverVolume = materialVolume(pki, 'user-service');
    svc = await startMtlsMicroservice(moduleWith(serverVolume.options));
  });
  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('new server material reaches new TCP handshakes; an open connection keeps working', async () => {
    const source = svc.app.get(MtlsMaterialSource);
    const open = await tlsOpen(svc.port, pki.clientTls('home-page-service'));
    expect(open.getPeerX509Certificate()?.serialNumber).toBe(serialOf(pki.certs['user-service'].issued.certPem));

    // The next certificate, and a trust store that also trusts the other CA.
    await rotate(source, serverVolume, 'user-service-next', pki.root.certPem + pki.otherRoot.certPem);

    const fresh = await tlsOpen(svc.port, pki.clientTls('home-page-service'));
    expect(fresh.getPeerX509Certificate()?.serialNumber).toBe(serialOf(pki.certs['user-service-next'].issued.certPem));
    fresh.destroy();
    // The new trust store is used too: the other CA's client gets in now (it trusts our root for the server).
    expect(await rawRpc(svc.port, { ...pki.clientTls('untrusted'), ca: pki.root.certPem }, GET_USER, { id: 1 })).toMatchObject({ answer: { response: ADA } });

    // The connection made before the swap still answers.
    const answer = await new Promise<string>((resolve, reject) => {
      let data = '';
      open.setEncoding('utf8');
      open.on('data', (d: string) => {
        data += d;
        if (data.includes('Ada')) resolve(data);
      });
      open.on('error', reject);
      const body = JSON.stringify({ pattern: GET_USER, data: { id: 1 }, id: 'old' });
      open.write(`${body.length}#${body}`);
    });
    expect(answer).toContain('"id":"old"');
    open.destroy();
    expect(svc.logs.lines.join('\n')).toMatch(/MtlsTcpServer: new handshakes use material generation 2/);
  });

  it('MtlsTcpClient: after its material changes, new calls present the new certificate; a call in flight finishes on the old connection', async () => {
    const clientVolume = materialVolume(pki, 'home-page-service');
    const source = await MtlsMaterialSource.create(clientVolume.options);
    const client = new MtlsTcpClient({ source, host: 'localhost', port: svc.port });
    try {
      expect(await lastValueFrom(client.send({ cmd: 'whoami' }, {}))).toMatchObject({ subject: 'CN=home-page-service,O=nest-mtls' });
      const old = client.unwrap<TLSSocket>();
      const inFlight = lastValueFrom(client.send<string>({ cmd: 'slow' }, 600));
      await sleep(100);
      await rotate(source, clientVolume, 'event-service');
      expect(await lastValueFrom(client.send({ cmd: 'whoami' }, {}))).toMatchObject({ subject: 'CN=event-service,O=nest-mtls' });
      await expect(inFlight).resolves.toBe('CN=home-page-service,O=nest-mtls');
      expect(client.unwrap<TLSSocket>()).not.toBe(old);
      // Drained, then closed.
      await Promise.race([new Promise((resolve) => (old.destroyed ? resolve(undefined) : old.once('close', resolve))), sleep(3000)]);
      expect(old.destroyed).toBe(true);
      // The new connection carries the new certificate from now on: user-service's policy refuses it.
      await expect(lastValueFrom(client.send(GET_USER, { id: 1 }))).rejects.toEqual({ status: 'error', message: 'Certificate subject is not recognized!' });
    } finally {
      client.close();
    }
  });
});

describe('a hybrid application: HTTPS and TCP from one MtlsModule (connectMicroservice)', () => {
  let pki: TestPki;
  let app: INestApplication;
  let tcp: INestMicroservice;
  let httpPort: number;
  let tcpPort: number;
  let volume: ReturnType<typeof materialVolume>;
  const logs = new CapturingLogger();

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('user-service-next', { subject: 'CN=user-service,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1', '::1'] });
    volume = materialVolume(pki, 'user-service');
    const moduleRef = await Test.createTestingModule({ imports: [moduleWith(volume.options)] }).setLogger(logs).compile();
    app = moduleRef.createNestApplication(new MtlsExpressAdapter(), { logger: logs });
    tcp = app.connectMicroservice(mtlsTcpMicroservice({ host: '127.0.0.1', port: 0 }), { inheritAppConfig: true });
    // Nest's documented order: the microservices first, then the HTTP server.
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    httpPort = (app.getHttpServer().address() as AddressInfo).port;
    tcpPort = (tcp.unwrap<Server>().address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app?.close();
    pki?.cleanup();
  });

  it('the same policy on both transports', async () => {
    expect((await httpsGet(httpPort, '/users/1', pki.clientTls('home-page-service'))).json).toEqual(ADA);
    expect((await httpsGet(httpPort, '/users/1', pki.clientTls('event-service'))).status).toBe(403);
    expect(await rawRpc(tcpPort, pki.clientTls('home-page-service'), GET_USER, { id: 1 })).toMatchObject({ answer: { response: ADA } });
    expect(await rawRpc(tcpPort, pki.clientTls('event-service'), GET_USER, { id: 1 })).toMatchObject({
      answer: { err: { status: 'error', message: 'Certificate subject is not recognized!' } },
    });
  });

  it('one swap reaches new handshakes on both', async () => {
    await rotate(app.get(MtlsMaterialSource), volume, 'user-service-next');
    const next = serialOf(pki.certs['user-service-next'].issued.certPem);
    const overTcp = await tlsOpen(tcpPort, pki.clientTls('home-page-service'));
    const overHttps = await tlsOpen(httpPort, pki.clientTls('home-page-service'));
    expect(overTcp.getPeerX509Certificate()?.serialNumber).toBe(next);
    expect(overHttps.getPeerX509Certificate()?.serialNumber).toBe(next);
    overTcp.destroy();
    overHttps.destroy();
  });
});

describe('user-service with TCP_PORT (the built service)', () => {
  const pkiDir = mkdtempSync(join(tmpdir(), 'nest-mtls-tcp-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGTERM');
    rmSync(pkiDir, { recursive: true, force: true });
  });

  function start(env: Record<string, string>): Promise<{ child: ChildProcess; out: string; code?: number | null }> {
    return new Promise((resolve) => {
      const proc = spawn(process.execPath, [serviceMain('user-service')], {
        env: { ...childBaseEnv(), HOST: '127.0.0.1', PORT: '0', MTLS_DEV_PKI_DIR: join(pkiDir, 'pki'), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      proc.stdout.on('data', (d: Buffer) => {
        out += d;
        if (/listening on/.test(out)) resolve({ child: proc, out });
      });
      proc.stderr.on('data', (d: Buffer) => (out += d));
      proc.on('exit', (code) => resolve({ child: proc, out, code }));
    });
  }

  it('a bad TCP_PORT stops it before it listens, naming the variable', async () => {
    const r = await start({ TCP_PORT: '84x4' });
    expect(r.code).toBe(1);
    expect(r.out).toContain('user-service: cannot start: TCP_PORT: expected a port number, got "84x4"');
  });

  it('without TCP_PORT it serves HTTPS only; with it, get_user over TCP with the dev PKI', async () => {
    const httpOnly = await start({});
    httpOnly.child.kill('SIGTERM');
    expect(httpOnly.out).not.toContain('tcp://');

    const r = await start({ TCP_PORT: '0' });
    child = r.child;
    const port = Number(/tcp:\/\/localhost:(\d+)/.exec(r.out)?.[1]);
    expect(port).toBeGreaterThan(0);
    const { mtlsOptionsWithDevPki } = await import('nest-mtls/dev-pki');
    const as = async (who: string) =>
      new MtlsTcpClient({ source: await MtlsMaterialSource.create(await mtlsOptionsWithDevPki(who, { devPki: true, env: { MTLS_DEV_PKI_DIR: join(pkiDir, 'pki') } })), host: 'localhost', port });
    const home = await as('home-page-service');
    const event = await as('event-service');
    try {
      await expect(lastValueFrom(home.send(GET_USER, { id: 1 }))).resolves.toEqual(ADA);
      await expect(lastValueFrom(event.send(GET_USER, { id: 1 }))).rejects.toEqual({ status: 'error', message: 'Certificate subject is not recognized!' });
    } finally {
      home.close();
      event.close();
    }
  });
});

describe('floods by a valid certificate over TCP (user-service with HTTPS, TCP_PORT and ADMIN_PORT in one process)', () => {
  let pki: TestPki;
  let service: RunningService;
  let port: number;
  let tcpPort: number;
  let adminPort: number;

  /** Waits until the service printed a line matching `pattern`. */
  async function waitForOutput(pattern: RegExp, limitMs = 10000): Promise<string> {
    const start = Date.now();
    for (;;) {
      const line = service.output().replace(/\x1b\[[0-9;]*m/g, '').split('\n').find((l) => pattern.test(l));
      if (line) return line;
      if (Date.now() - start > limitMs) throw new Error(`no ${pattern} in the output within ${limitMs} ms:\n${service.output().slice(-4000)}`);
      await sleep(50);
    }
  }

  beforeAll(async () => {
    pki = await TestPki.create();
    [port, tcpPort, adminPort] = await Promise.all([freePort(), freePort(), freePort()]);
    service = await startService('user-service', {
      MTLS_CERT_PATH: pki.certs['user-service'].chain,
      MTLS_KEY_PATH: pki.certs['user-service'].key,
      MTLS_TRUST_STORE_PATH: pki.trustStore,
      PORT: String(port),
      TCP_PORT: String(tcpPort),
      ADMIN_PORT: String(adminPort),
    });
  });

  afterAll(async () => {
    await service?.stop();
    pki?.cleanup();
  });

  it('3,000 whitespace variants of {"cmd":"get_user"} reach the handler, and the guard metrics and log keep the declared pattern', async () => {
    const variant = (i: number) => `{${' '.repeat(i % 60)}"cmd"${' '.repeat(Math.floor(i / 60))}:"get_user"}`;
    const allowed = Array.from({ length: 3000 }, (_, i) => variant(i));
    expect(new Set(allowed).size).toBe(3000);
    const answers = await rawRpcBatch(tcpPort, pki.clientTls('home-page-service'), allowed, { id: 1 });
    expect(answers.size).toBe(3000);
    for (const answer of answers.values()) expect(answer).toEqual({ response: ADA, err: undefined });
    const refused = await rawRpcBatch(tcpPort, pki.clientTls('event-service'), allowed.slice(1, 40), { id: 1 });
    expect([...refused.values()].every((a) => (a.err as { message?: string })?.message === 'Certificate subject is not recognized!')).toBe(true);

    const decisions = samplesOf(await scrape(adminPort), 'mtls_guard_decisions_total');
    expect(decisions.map((s) => s.labels)).toEqual(expect.arrayContaining([{ route: '{"cmd":"get_user"}', outcome: 'allowed' }]));
    expect(new Set(decisions.map((s) => s.labels.route))).toEqual(new Set(['{"cmd":"get_user"}']));
    expect(sample(decisions, 'mtls_guard_decisions_total', { route: '{"cmd":"get_user"}', outcome: 'allowed' })).toBe(3000);
    expect(sample(decisions, 'mtls_guard_decisions_total', { route: '{"cmd":"get_user"}', outcome: 'refused' })).toBe(39);
    // The refusal line names the declared pattern too (one line, then a count), not 39 different ones.
    await waitForOutput(/WARN \[ClientCertGuard\] refused RPC \{"cmd":"get_user"\} from 127\.0\.0\.1:\d+: policy refused \(rule subject\): unexpected subject DN CN=event-service,O=nest-mtls/);
    expect(service.output()).not.toMatch(/refused RPC \{ +"cmd"/);
  });

  it.each([
    ['letters', 'x'],
    ['digits', '9'],
  ])('15 MB without "#" (%s): the connection is closed at once, and HTTPS /health on the same process keeps answering', async (_what, fill) => {
    const flood = floodFromChild(tcpPort, pki.clientTls('home-page-service'), { fill, bytes: 15 * 1024 * 1024, waitAfterMs: 1000 });
    const health = await longestAnswerWhile(port, '/health', pki.clientTls('home-page-service'), flood);
    const outcome = await flood;
    process.stdout.write(`15 MB without "#" (${fill}): ${JSON.stringify(outcome)}; /health: ${JSON.stringify(health)}\n`);
    expect(outcome.cutShort).toBe(true);
    expect(outcome.closedAfterMs).toBeLessThan(2000);
    expect(health.statuses).toEqual([200]);
    expect(health.longestMs).toBeLessThan(1000);
    await waitForOutput(/WARN \[MtlsServer\] connection from 127\.0\.0\.1:\d+ refused: protocol \(length prefix/);
  });

  it('a 96 MB frame is refused at its length prefix: the connection is closed before the frame is read, and /health keeps answering', async () => {
    const bytes = 96 * 1024 * 1024;
    const flood = floodFromChild(tcpPort, pki.clientTls('home-page-service'), { prefix: `${bytes}#`, fill: 'a', bytes, waitAfterMs: 1000 });
    const health = await longestAnswerWhile(port, '/health', pki.clientTls('home-page-service'), flood);
    const outcome = await flood;
    process.stdout.write(`96 MB frame: ${JSON.stringify(outcome)}; /health: ${JSON.stringify(health)}\n`);
    expect(outcome.cutShort).toBe(true);
    expect(outcome.closedAfterMs).toBeLessThan(2000);
    expect(outcome.sentBytes).toBeLessThan(bytes / 2);
    expect(health.statuses).toEqual([200]);
    expect(health.longestMs).toBeLessThan(1000);
    await waitForOutput(/WARN \[MtlsServer\] connection from 127\.0\.0\.1:\d+ refused: protocol \(length prefix announces at least 10066329 characters; maxMessageBytes is 1048576\)/);
  });
});

/** CapturingLogger with debug lines too. */
class DebugCapturingLogger extends CapturingLogger {
  override debug(...args: unknown[]) {
    this.lines.push(`DEBUG ${String(args[0])}`);
  }
}

describe('idle connections on the TCP transport (idleTimeoutMs)', () => {
  let pki: TestPki;
  let svc: RunningMicroservice;
  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startMtlsMicroservice(moduleWith(pki.pemOptions('user-service')), { idleTimeoutMs: 1000 }, new DebugCapturingLogger());
  });
  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('a connection idle after its message is closed after idleTimeoutMs, and the client reconnects for its next call', async () => {
    const socket = await tlsOpen(svc.port, pki.clientTls('home-page-service'));
    socket.on('error', () => undefined);
    const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    const body = JSON.stringify({ pattern: GET_USER, data: { id: 1 }, id: 'idle' });
    socket.write(`${body.length}#${body}`);
    await answered;
    const closedAfter = await closedWithin(socket, 6000);
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(4000);
    expect(svc.logs.lines.join('\n')).toMatch(/DEBUG closed the idle connection from 127\.0\.0\.1:\d+ \(no traffic for 1000 ms\)/);

    // Nest's ClientTCP opens a new connection when its idle one was closed.
    const source = await MtlsMaterialSource.create(pki.pemOptions('home-page-service'));
    const client = new MtlsTcpClient({ source, host: 'localhost', port: svc.port });
    try {
      await expect(lastValueFrom(client.send(GET_USER, { id: 1 }))).resolves.toEqual(ADA);
      await sleep(2000);
      await expect(lastValueFrom(client.send(GET_USER, { id: 1 }))).resolves.toEqual(ADA);
    } finally {
      client.close();
    }
  });

  it('a call in flight longer than idleTimeoutMs is answered, not cut', async () => {
    const source = await MtlsMaterialSource.create(pki.pemOptions('home-page-service'));
    const client = new MtlsTcpClient({ source, host: 'localhost', port: svc.port });
    try {
      await expect(lastValueFrom(client.send<string>({ cmd: 'slow' }, 2500))).resolves.toBe('CN=home-page-service,O=nest-mtls');
    } finally {
      client.close();
    }
  });
});

describe.each(['text', 'json'])('log forgery through the TCP transport (user-service, LOG_FORMAT=%s)', (format) => {
  let pki: TestPki;
  let service: RunningService;
  let tcpPort: number;
  // A pattern that ends Nest's line and writes one that looks like the guard admitting someone, then a line
  // separator and a bidi override that would break or reorder the line in a viewer.
  const FORGED = 'LOG [ClientCertGuard] admitted CN=admin,O=nest-mtls';
  const pattern = `{"cmd":"nope"}\n[Nest] 4242  - 12/07/2026, 5:54:35 PM     ${FORGED}\r\n\u2028x\u202egnp.exe`;
  const plain = () => service.output().replace(/\x1b\[[0-9;]*m/g, '');

  beforeAll(async () => {
    pki = await TestPki.create();
    const [port, tcp] = await Promise.all([freePort(), freePort()]);
    tcpPort = tcp;
    service = await startService('user-service', {
      MTLS_CERT_PATH: pki.certs['user-service'].chain,
      MTLS_KEY_PATH: pki.certs['user-service'].key,
      MTLS_TRUST_STORE_PATH: pki.trustStore,
      PORT: String(port),
      TCP_PORT: String(tcpPort),
      LOG_FORMAT: format,
    });
  });

  afterAll(async () => {
    await service?.stop();
    pki?.cleanup();
  });

  it('an event and a message with a forged pattern: logged escaped on one line, no forged line, nothing raw', async () => {
    const socket = await tlsOpen(tcpPort, pki.clientTls('event-service'));
    socket.on('error', () => undefined);
    const frame = (packet: object) => {
      const body = JSON.stringify(packet);
      return `${body.length}#${body}`;
    };
    // An event (no id): nobody handles it, which Nest would log with the pattern; a message (with id) likewise unhandled.
    socket.write(frame({ pattern, data: {} }) + frame({ pattern, data: {}, id: 'forged' }));
    const answered = new Promise((resolve) => socket.once('data', resolve));
    await answered;
    const deadline = Date.now() + 5000;
    while (!/event with no handler from 127\.0\.0\.1:\d+: pattern/.test(plain()) && Date.now() < deadline) await sleep(50);
    socket.destroy();
    await service.stop();

    const out = plain();
    const lines = out.split('\n').filter((l) => l.length > 0);
    for (const line of lines) expect(line).not.toMatch(/^\[Nest\] 4242 /);
    expect(out).not.toMatch(/[\u2028\u2029\u202e]/);
    expect(out).toMatch(/event with no handler from 127\.0\.0\.1:\d+: pattern \{\\?"cmd\\?":\\?"nope\\?"\}\\{1,2}n\[Nest\] 4242/);
    if (format === 'json') {
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      expect(lines.map((l) => JSON.parse(l) as { context?: string; message?: string }).filter((r) => r.context === 'ClientCertGuard' && /admitted/.test(String(r.message)))).toEqual([]);
    } else {
      // Every physical line is one record: Nest's prefix (or the service's own "listening" line).
      for (const line of lines) expect(line).toMatch(/^(\[Nest\] \d+ {2}- |user-service listening on )/);
    }
  });
});
