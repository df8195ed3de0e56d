import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { GrpcMethod, type CustomStrategy } from '@nestjs/microservices';
import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Test } from '@nestjs/testing';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { filter, firstValueFrom } from 'rxjs';
import { ClientCert, MtlsConfigError, MtlsMaterialSource, MtlsModule, MtlsServing, RequireClientCert, type ClientIdentity, type MtlsOptions, type MtlsReloadResult } from 'nest-mtls';
import { MtlsAdminModule, MtlsAdminServer } from 'nest-mtls/admin';
import { MtlsGrpcServer, mtlsGrpcCredentials, mtlsGrpcMicroservice } from 'nest-mtls/grpc';
import { USERS_PROTO } from '../../apps/user-service/src/users-grpc.controller';
import { UsersGrpcController } from '../../apps/user-service/src/users-grpc.controller';
import { UsersService } from '../../apps/user-service/src/users.service';
import { adminGet, sample, samplesOf, scrape } from '../support/admin-app';
import { getUser, getUserOnce, pythonGetUser, pythonWithGrpc, rawGetUser, rawGrpcSession, userServiceClient } from '../support/grpc-clients';
import { replaceFile } from '../support/openssl-ca';
import { SecretVolume } from '../support/secret-volume';
import { CapturingLogger } from '../support/start-app';
import { freePort } from '../support/spawn-service';
import { TestPki } from '../support/test-pki';
import { closedWithin, tlsOpen } from '../support/tls-probe';
import { waitForLine, waitForValue } from '../support/wait-for';

const ADA = { id: 1, name: 'Ada Lovelace', email: 'ada@example.com' };
const REFUSED = { code: 'PERMISSION_DENIED', details: 'Certificate subject is not recognized!' };

/** A second service, to see what @ClientCert() gives a @GrpcMethod handler. */
const PROBE_PROTO = `syntax = "proto3";
package probe;
service Probe {
  rpc WhoAmI (Empty) returns (Caller);
  rpc Slow (Empty) returns (Caller);
}
message Empty {}
message Caller { string subject = 1; string spiffe = 2; bool same = 3; }
`;

/** Resolves when a Slow call has reached its handler. */
let slowStarted: () => void = () => undefined;

@Controller()
@RequireClientCert()
class ProbeController {
  @GrpcMethod('Probe', 'Slow')
  async slow(_request: unknown, @ClientCert('subject') subject: string): Promise<{ subject: string }> {
    slowStarted();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return { subject };
  }

  @GrpcMethod('Probe', 'WhoAmI')
  whoAmI(_request: unknown, @ClientCert() caller: ClientIdentity, @ClientCert('subject') subject: string): { subject: string; spiffe: string; same: boolean } {
    return { subject, spiffe: caller.spiffeId ?? '', same: caller.subject === subject };
  }
}

interface RunningGrpc {
  app: INestMicroservice;
  server: MtlsGrpcServer;
  port: number;
  adminPort: number;
  source: MtlsMaterialSource;
  logs: CapturingLogger;
}

/** user-service's gRPC controller (and the probe, whose .proto is written into `dir`) behind MtlsModule.forRoot(options), the admin port, and MtlsGrpcServer on `url`. */
async function startGrpc(options: MtlsOptions, dir: string, url = '127.0.0.1:0'): Promise<RunningGrpc> {
  const probeProto = join(dir, 'probe.proto');
  writeFileSync(probeProto, PROBE_PROTO);
  @Module({ imports: [MtlsModule.forRoot(options), MtlsAdminModule.forRoot({ port: 0 })], controllers: [UsersGrpcController, ProbeController], providers: [UsersService] })
  class GrpcTestModule {}
  const logs = new CapturingLogger();
  const moduleRef = await Test.createTestingModule({ imports: [GrpcTestModule] }).setLogger(logs).compile();
  const given = mtlsGrpcMicroservice({ url, package: ['users', 'probe'], protoPath: [USERS_PROTO, probeProto] });
  let server: MtlsGrpcServer | undefined;
  const app = moduleRef.createNestMicroservice({
    ...given,
    useFactory: (serving: MtlsServing) => {
      const made = given.useFactory(serving);
      server = (made as CustomStrategy).strategy as MtlsGrpcServer;
      return made;
    },
    logger: logs,
  });
  await app.listen();
  return { app, server: server!, port: server!.address()!.port, adminPort: app.get(MtlsAdminServer).address()!.port, source: app.get(MtlsMaterialSource), logs };
}

/** The serial number of the certificate the server presents to a new h2 connection. */
async function servedSerial(port: number, tls: object): Promise<string> {
  const socket: TLSSocket = await tlsOpen(port, { ...tls, ALPNProtocols: ['h2'] });
  const serial = socket.getPeerX509Certificate()!.serialNumber;
  socket.destroy();
  return serial;
}

describe('gRPC over mutual TLS (nest-mtls/grpc, @GrpcMethod handlers)', () => {
  let pki: TestPki;
  let svc: RunningGrpc;
  let volume: SecretVolume;

  /** user-service's material in a secret directory (watch off: the test reloads), so it can be rotated. */
  const put = (name: string) => volume.update({ 'tls.crt': pki.certs[name].issued.chainPem, 'tls.key': pki.certs[name].issued.keyPem, 'ca.crt': pki.root.certPem });

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('user-service-next', { subject: 'CN=user-service,O=nest-mtls', uri: ['spiffe://example.org/user-service'], dns: ['localhost'], ip: ['127.0.0.1'] });
    volume = new SecretVolume(join(pki.dir, 'grpc-volume'));
    put('user-service');
    svc = await startGrpc({ certPath: volume.path('tls.crt'), keyPath: volume.path('tls.key'), trustStorePath: volume.path('ca.crt'), watch: false, requestHeaderTimeoutMs: 2000 }, pki.dir);
  });

  afterAll(async () => {
    await svc?.app.close();
    pki?.cleanup();
  });

  it('home-page-service gets users.UserService/GetUser (the GET /users policy: its SPIFFE ID)', async () => {
    await expect(getUserOnce(svc.port, pki.clientTls('home-page-service'))).resolves.toEqual({ user: ADA });
  });

  it('event-service, with a valid certificate, is refused: PERMISSION_DENIED with the article\'s message, logged with the route and reason', async () => {
    await expect(getUserOnce(svc.port, pki.clientTls('event-service'))).resolves.toEqual(REFUSED);
    const line = await waitForLine(svc.logs.lines, /refused gRPC \/users\.UserService\/GetUser from 127\.0\.0\.1:\d+/);
    expect(line).toMatch(/policy refused \(rule spiffeId\)/);
    expect(line).toContain('spiffe://example.org/event-service');
  });

  it('a client without a certificate gets no connection (refused in the handshake: UNAVAILABLE), logged as no_certificate', async () => {
    const outcome = await getUserOnce(svc.port, { ca: pki.root.certPem });
    expect(outcome).toMatchObject({ code: 'UNAVAILABLE' });
    await waitForLine(svc.logs.lines, /refused: no_certificate/);
  });

  it('a certificate from an untrusted CA gets no connection (UNAVAILABLE), logged as untrusted', async () => {
    const outcome = await getUserOnce(svc.port, pki.clientTls('untrusted'));
    expect(outcome).toMatchObject({ code: 'UNAVAILABLE' });
    await waitForLine(svc.logs.lines, /refused: (untrusted|unknown_ca)/);
  });

  /** A client of the probe service presenting home-page-service's certificate. */
  function probeClient() {
    const pkg = loadPackageDefinition(loadSync(join(pki.dir, 'probe.proto'))) as unknown as {
      probe: { Probe: new (a: string, c: unknown, o: object) => Record<'WhoAmI' | 'Slow', (r: object, cb: (e: Error | null, v: unknown) => void) => void> & { close(): void } };
    };
    const tls = pki.clientTls('home-page-service');
    return new pkg.probe.Probe(`127.0.0.1:${svc.port}`, credentials.createSsl(Buffer.from(tls.ca), Buffer.from(tls.key!), Buffer.from(tls.cert!)), { 'grpc.ssl_target_name_override': 'localhost' });
  }

  it('@ClientCert() gives the handler the admitted identity', async () => {
    const client = probeClient();
    try {
      const ask = () => new Promise((resolve, reject) => client.WhoAmI({}, (e, v) => (e ? reject(e) : resolve(v))));
      const answers = await Promise.all([ask(), ask(), ask()]);
      for (const answer of answers) expect(answer).toEqual({ subject: 'CN=home-page-service,O=nest-mtls', spiffe: 'spiffe://example.org/home-page-service', same: true });
    } finally {
      client.close();
    }
  });

  it('mtlsGrpcCredentials: calls with our material and checks the server\'s identity', async () => {
    const caller = await MtlsMaterialSource.create(pki.pemOptions('home-page-service'));
    await expect(getUserOnce(svc.port, mtlsGrpcCredentials(caller, { serverIdentity: { spiffeId: 'spiffe://example.org/user-service' } }))).resolves.toEqual({ user: ADA });
    const wrong = await getUserOnce(svc.port, mtlsGrpcCredentials(caller, { serverIdentity: { spiffeId: 'spiffe://example.org/somebody-else' } }));
    expect(wrong).toMatchObject({ code: 'UNAVAILABLE' });
    expect((wrong as { details: string }).details).toMatch(/not the expected identity/);
  });

  it('counts refusals in mtls_guard_refusals_total and decisions by the method path, as for HTTP', async () => {
    await expect(getUserOnce(svc.port, pki.clientTls('event-service'))).resolves.toEqual(REFUSED);
    const samples = await scrape(svc.adminPort);
    const refusals = samplesOf(samples, 'mtls_guard_refusals_total').filter((s) => s.labels.route === '/users.UserService/GetUser');
    expect(refusals.map((s) => s.labels)).toEqual([{ route: '/users.UserService/GetUser', outcome: 'refused', reason: 'policy', rule: 'spiffeId' }]);
    expect(refusals[0].value).toBeGreaterThanOrEqual(2);
    expect(sample(samples, 'mtls_guard_decisions_total', { route: '/users.UserService/GetUser', outcome: 'allowed' })).toBeGreaterThanOrEqual(1);
    expect(sample(samples, 'mtls_handshake_failures_total', { reason: 'no_certificate' })).toBeGreaterThanOrEqual(1);
  });

  it('/policies on the admin port lists the gRPC methods with their policies', async () => {
    const answer = await adminGet(svc.adminPort, '/policies');
    expect(answer.status).toBe(200);
    expect(answer.json.policies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ transport: 'rpc', route: 'UserService/GetUser', handler: 'UsersGrpcController.getUser', guarded: true, policy: 'SPIFFE ID is spiffe://example.org/home-page-service' }),
        expect.objectContaining({ transport: 'rpc', route: 'Probe/WhoAmI', handler: 'ProbeController.whoAmI', guarded: true }),
      ]),
    );
  });

  it('rotation: new material is served to new connections without a restart; an open channel keeps working', async () => {
    const client = userServiceClient(svc.port, pki.clientTls('home-page-service'));
    try {
      expect(await getUser(client, 1)).toEqual({ user: ADA });
      const before = await servedSerial(svc.port, pki.clientTls('home-page-service'));
      expect(before).toBe(pki.certs['user-service'].issued.certificate.serialNumber);
      put('user-service-next');
      expect(await svc.source.reload()).toMatchObject({ result: 'success' });
      expect(await servedSerial(svc.port, pki.clientTls('home-page-service'))).toBe(pki.certs['user-service-next'].issued.certificate.serialNumber);
      // New connections speak gRPC (ALPN h2 survives the swap) and the open one is not cut.
      await expect(getUserOnce(svc.port, pki.clientTls('home-page-service'))).resolves.toEqual({ user: ADA });
      expect(await getUser(client, 2)).toMatchObject({ user: { id: 2, name: 'Alan Turing' } });
      await waitForLine(svc.logs.lines, /MtlsGrpcServer: new handshakes use material generation 2/);
    } finally {
      client.close();
    }
  });

  it('refuses to listen without MtlsModule material, and refuses credentials of its own and a url that is not host:port', async () => {
    const bare = new MtlsGrpcServer(undefined as never, { url: '127.0.0.1:0', package: 'users', protoPath: USERS_PROTO });
    const err = await new Promise((resolve) => void bare.listen(resolve));
    expect(err).toBeInstanceOf(MtlsConfigError);
    expect(String(err)).toMatch(/no MtlsModule material/);
    expect(bare.address()).toBeUndefined();
    expect(() => new MtlsGrpcServer(svc.app.get(MtlsServing), { package: 'users', protoPath: USERS_PROTO, credentials: {} } as never)).toThrow(MtlsConfigError);
    expect(() => new MtlsGrpcServer(svc.app.get(MtlsServing), { package: 'users', protoPath: USERS_PROTO, url: 'dns:///x:1' })).toThrow(/url: must be host:port/);
  });

  it('a connection that starts no call within requestHeaderTimeoutMs of its handshake is closed, logged as timeout', async () => {
    const idle = await tlsOpen(svc.port, { ...pki.clientTls('home-page-service'), ALPNProtocols: ['h2'] });
    idle.resume(); // read the server's SETTINGS, and see the close
    const closedAfter = await closedWithin(idle, 15_000);
    expect(closedAfter).toBeGreaterThan(1500);
    await waitForLine(svc.logs.lines, /refused: timeout \(no message within 2000 ms of the handshake\)/);
  });

  it('a client that offers no ALPN, or only http/1.1, gets no gRPC connection (refused: protocol)', async () => {
    const bare = await tlsOpen(svc.port, pki.clientTls('home-page-service'));
    bare.resume();
    expect(await closedWithin(bare, 10_000)).toBeLessThan(10_000);
    await waitForLine(svc.logs.lines, /refused: protocol \(no ALPN protocol agreed: gRPC needs h2\)/);
    await expect(tlsOpen(svc.port, { ...pki.clientTls('home-page-service'), ALPNProtocols: ['http/1.1'] })).rejects.toThrow(/no application protocol|ALPN/i);
  });

  describe('independent client: Python grpcio (C-core TLS and HTTP/2)', () => {
    const python = pythonWithGrpc() ? it : it.skip;
    const files = (name?: string) => ({ ca: pki.trustStore, cert: name ? pki.certs[name].chain : undefined, key: name ? pki.certs[name].key : undefined });

    python('home-page-service gets the user; event-service gets PERMISSION_DENIED with the message; no certificate and an untrusted CA get UNAVAILABLE', async () => {
      await expect(pythonGetUser(svc.port, files('home-page-service'))).resolves.toEqual({ user: ADA });
      await expect(pythonGetUser(svc.port, files('home-page-service'), 2)).resolves.toEqual({ user: { id: 2, name: 'Alan Turing', email: 'alan@example.com' } });
      await expect(pythonGetUser(svc.port, files('event-service'))).resolves.toEqual(REFUSED);
      await expect(pythonGetUser(svc.port, files())).resolves.toMatchObject({ code: 'UNAVAILABLE' });
      await expect(pythonGetUser(svc.port, files('untrusted'))).resolves.toMatchObject({ code: 'UNAVAILABLE' });
    });
  });
});

describe('gRPC over mutual TLS: two connections with the same peer address and port', () => {
  let pki: TestPki;
  let svc: RunningGrpc;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startGrpc(pki.pemOptions('user-service'), pki.dir, '0.0.0.0:0'); // reachable on 127.0.0.1 and 127.0.0.2
  });

  afterAll(async () => {
    await svc?.app.close();
    pki?.cleanup();
  });

  it('a call is never judged by another connection\'s certificate (same client address and port, another local address): the shared name is refused', async () => {
    // Linux lets two sockets share a source port when their destinations differ: grpc-js names both calls' peer
    // 127.0.0.1:<port>. event-service connects first, home-page-service second (the later one would win a plain map).
    const sessions = [];
    try {
      const { port } = svc;
      const shared = await freePort();
      const blocked = await rawGrpcSession(port, { ...pki.clientTls('event-service'), localAddress: '127.0.0.1', localPort: shared });
      sessions.push(blocked);
      expect(await rawGetUser(blocked, 1)).toEqual({ code: 'PERMISSION_DENIED', details: 'Certificate subject is not recognized!' });
      const allowed = await rawGrpcSession(port, { ...pki.clientTls('home-page-service'), host: '127.0.0.2', localAddress: '127.0.0.1', localPort: shared });
      sessions.push(allowed);
      expect((allowed.socket as unknown as { localPort: number }).localPort).toBe(shared);
      // Neither connection may take the other's identity: while both are open, the name is ambiguous and refused.
      expect(await rawGetUser(blocked, 1)).toMatchObject({ code: 'PERMISSION_DENIED' });
      expect(await rawGetUser(blocked, 1)).not.toHaveProperty('user');
      expect(await rawGetUser(allowed, 1)).toMatchObject({ code: 'PERMISSION_DENIED' });
      // Once the other has gone, each is judged by its own certificate again.
      blocked.destroy();
      await waitForValue(() => rawGetUser(allowed, 1), (outcome) => 'user' in outcome, 'the allowed caller served again');
    } finally {
      for (const session of sessions) session.destroy();
    }
  });
});

describe('gRPC over mutual TLS: graceful shutdown', () => {
  let pki: TestPki;
  let svc: RunningGrpc;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startGrpc(pki.pemOptions('user-service'), pki.dir);
  });

  afterAll(async () => {
    await svc?.app.close();
    pki?.cleanup();
  });

  it('drains: the call in flight is answered, new connections are refused, nothing is cut', async () => {
    const pkg = loadPackageDefinition(loadSync(join(pki.dir, 'probe.proto'))) as unknown as {
      probe: { Probe: new (a: string, c: unknown, o: object) => { Slow: (r: object, cb: (e: Error | null, v: unknown) => void) => void; close(): void } };
    };
    const tls = pki.clientTls('home-page-service');
    const client = new pkg.probe.Probe(`127.0.0.1:${svc.port}`, credentials.createSsl(Buffer.from(tls.ca), Buffer.from(tls.key!), Buffer.from(tls.cert!)), { 'grpc.ssl_target_name_override': 'localhost' });
    try {
      const started = new Promise<void>((resolve) => (slowStarted = resolve));
      const answer = new Promise((resolve, reject) => client.Slow({}, (e, v) => (e ? reject(e) : resolve(v))));
      await started;
      const drain = (svc.server as unknown as Record<symbol, (deadline: number) => Promise<unknown>>)[Symbol.for('nest-mtls.drain')](Date.now() + 10_000);
      await expect(answer).resolves.toEqual({ subject: 'CN=home-page-service,O=nest-mtls' });
      await expect(drain).resolves.toEqual({ listener: `grpc 127.0.0.1:${svc.port}`, inFlight: 1, cut: 0 });
      await expect(getUserOnce(svc.port, pki.clientTls('home-page-service'))).resolves.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      client.close();
    }
  });
});

describe('gRPC over mutual TLS: revocation (CRL files)', () => {
  let pki: TestPki;
  let svc: RunningGrpc;
  let crlPath: string;

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('grpc-live-caller', { subject: 'CN=home-page-service,O=nest-mtls', uri: ['spiffe://example.org/home-page-service'] });
    crlPath = await pki.writeCrls('grpc-live.pem', [pki.root], [pki.global, { revoked: [{ serialNumber: pki.certs.revoked.issued.certificate.serialNumber }] }]);
    svc = await startGrpc(pki.pemOptions('user-service', { crlPath }), pki.dir);
  });

  afterAll(async () => {
    await svc?.app.close();
    pki?.cleanup();
  });

  it('a revoked client certificate gets no connection', async () => {
    await expect(getUserOnce(svc.port, pki.clientTls('revoked'))).resolves.toMatchObject({ code: 'UNAVAILABLE' });
    await waitForLine(svc.logs.lines, /refused: revoked/);
  });

  it('a certificate revoked while its connection is open: the connection is cut, and its next call is refused', async () => {
    const client = userServiceClient(svc.port, pki.clientTls('grpc-live-caller'));
    try {
      expect(await getUser(client, 1)).toEqual({ user: ADA });
      const bystander = await tlsOpen(svc.port, { ...pki.clientTls('home-page-service'), ALPNProtocols: ['h2'] });
      const open = await tlsOpen(svc.port, { ...pki.clientTls('grpc-live-caller'), ALPNProtocols: ['h2'] });
      // Read what the server sends (its HTTP/2 SETTINGS), so that its closing the connection is seen.
      open.resume();
      bystander.resume();
      const reloaded = firstValueFrom(svc.source.reloads.pipe(filter((r: MtlsReloadResult) => r.result === 'success')));
      const serials = [pki.certs.revoked.issued.certificate.serialNumber, pki.certs['grpc-live-caller'].issued.certificate.serialNumber].map((serialNumber) => ({ serialNumber }));
      replaceFile(crlPath, (await pki.writeCrls('grpc-live-next.pem', [pki.root], [pki.global, { revoked: serials }])) && pki.read('grpc-live-next.pem'));
      expect(await closedWithin(open, 10_000)).toBeLessThan(10_000);
      await reloaded;
      await waitForLine(svc.logs.lines, /open connection from .* closed: revoked/);
      expect(bystander.destroyed).toBe(false);
      bystander.destroy();
      // The channel's connection was cut too; grpc-js reconnects, and the new handshake is refused.
      expect(await getUser(client, 1)).toMatchObject({ code: 'UNAVAILABLE' });
      await expect(getUserOnce(svc.port, pki.clientTls('home-page-service'))).resolves.toEqual({ user: ADA });
    } finally {
      client.close();
    }
  });
});
