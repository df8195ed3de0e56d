import { Controller, Get } from '@nestjs/common';
import { ClientCert, MtlsHttpClient, MtlsMaterialSource, RequireClientCert, type MtlsReloadResult } from 'nest-mtls';
import { createRootCa, issueCertificate, type IssuedCertificate } from 'nest-mtls/testing';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { requestOnSocket } from '../support/raw-http';
import { SecretVolume } from '../support/secret-volume';
import { freePort, startService, type RunningService } from '../support/spawn-service';
import { HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { httpsGet, tlsOpen } from '../support/tls-probe';

@Controller('whoami')
class WhoamiController {
  @Get()
  @RequireClientCert()
  whoami(@ClientCert('subject') subject: string) {
    return { subject };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The serial of the certificate the server presents to a new handshake (read after a whole request, so neither side hangs up early). */
async function servedSerial(port: number, pki: TestPki): Promise<string> {
  const socket = await tlsOpen(port, pki.clientTls('home-page-service'));
  try {
    const serial = socket.getPeerCertificate().serialNumber.toUpperCase();
    await requestOnSocket(socket, '/health-check-of-serial');
    return serial;
  } finally {
    socket.end();
  }
}

/** Polls until new handshakes get `serial` (resolves with the ms it took) or `limitMs` passes (rejects). */
async function waitForSerial(port: number, pki: TestPki, serial: string, limitMs = 5000): Promise<number> {
  const start = Date.now();
  for (;;) {
    if ((await servedSerial(port, pki)) === serial.toUpperCase()) return Date.now() - start;
    if (Date.now() - start > limitMs) throw new Error(`serial ${serial} not served within ${limitMs} ms`);
    await sleep(50);
  }
}

/**
 * Certificate rotation without a restart: the material lives in a directory
 * updated like a Kubernetes secret volume; new handshakes see each good
 * update within 5 s, broken material is never served, existing connections
 * keep working; on both adapters.
 */
describe.each(HTTP_ADAPTERS)('%s: reloading the material', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;
  let volume: SecretVolume;
  let source: MtlsMaterialSource;
  const issue = (spec = {}) => issueCertificate(pki.global, { subject: 'CN=user-service,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1'], ...spec });
  const publish = (cert: IssuedCertificate, trust = pki.root.certPem) => volume.update({ 'tls.crt': cert.chainPem, 'tls.key': cert.keyPem, 'ca.crt': trust });
  const nextReload = () => firstValueFrom(source.reloads.pipe(filter((r: MtlsReloadResult) => r.result !== 'unchanged')));

  beforeAll(async () => {
    pki = await TestPki.create();
    volume = new SecretVolume(join(pki.dir, 'secret'));
    publish(await issue());
    svc = await startWithOptions({ certPath: volume.path('tls.crt'), keyPath: volume.path('tls.key'), trustStorePath: volume.path('ca.crt') }, [WhoamiController], [], adapter);
    source = svc.app.get(MtlsMaterialSource);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('serves a rotated certificate to new handshakes within 5 s of a ..data swap; an open connection keeps working', async () => {
    const open = await tlsOpen(svc.port, pki.clientTls('home-page-service'));
    const before = open.getPeerCertificate().serialNumber;
    const next = await issue();
    publish(next);
    await waitForSerial(svc.port, pki, next.certificate.serialNumber);
    expect(source.current().generation).toBeGreaterThan(1);
    // The connection made before the swap still serves requests, with the certificate it had.
    open.write('GET /whoami HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const answer = await new Promise<string>((resolve) => open.once('data', (d: Buffer) => resolve(d.toString())));
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(open.getPeerCertificate().serialNumber).toBe(before);
    open.destroy();
  });

  it('never serves a truncated certificate: the last good one stays, one log line names the file, the problem and the serial still served', async () => {
    const served = source.current().material.identity.chain[0].serialNumber;
    const good = await issue();
    const logsBefore = svc.logs.lines.length;
    const failed = nextReload();
    volume.update({ 'tls.crt': good.chainPem.slice(0, 300), 'tls.key': good.keyPem, 'ca.crt': pki.root.certPem });
    const result = await failed;
    expect(result.result).toBe('failure');
    expect(await servedSerial(svc.port, pki)).toBe(served.toUpperCase());
    const lines = svc.logs.lines.slice(logsBefore).filter((l) => l.includes('reload of the TLS material failed'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(volume.path('tls.crt'));
    expect(lines[0]).toContain(`still serving serial ${served}`);
    // A later good write is taken.
    publish(good);
    await waitForSerial(svc.port, pki, good.certificate.serialNumber);
  });

  it('refuses a certificate that does not chain to the trust store, and a key that does not match', async () => {
    const served = source.current().material.identity.chain[0].serialNumber;
    const otherRoot = await createRootCa({ subject: 'CN=Elsewhere Root' });
    const stranger = await issueCertificate(otherRoot, { subject: 'CN=user-service', dns: ['localhost'] });
    const failed = nextReload();
    volume.update({ 'tls.crt': stranger.chainPem, 'tls.key': stranger.keyPem, 'ca.crt': pki.root.certPem });
    expect((await failed).error).toMatch(/does not chain to a CA/);
    const mismatched = nextReload();
    const a = await issue();
    const b = await issue();
    volume.update({ 'tls.crt': a.chainPem, 'tls.key': b.keyPem, 'ca.crt': pki.root.certPem });
    expect((await mismatched).error).toMatch(/key/i);
    expect(await servedSerial(svc.port, pki)).toBe(served.toUpperCase());
    publish(a);
    await waitForSerial(svc.port, pki, a.certificate.serialNumber);
  });

  it('takes a plain rewrite and a rename of a file too', async () => {
    const rewritten = await issue();
    writeFileSync(volume.path('tls.key'), rewritten.keyPem); // through the symlink, into ..data
    writeFileSync(volume.path('tls.crt'), rewritten.chainPem);
    await waitForSerial(svc.port, pki, rewritten.certificate.serialNumber);
    const renamed = await issue();
    const dataDir = join(volume.dir, '..data');
    writeFileSync(join(dataDir, 'tls.key.new'), renamed.keyPem);
    writeFileSync(join(dataDir, 'tls.crt.new'), renamed.chainPem);
    renameSync(join(dataDir, 'tls.key.new'), join(dataDir, 'tls.key'));
    renameSync(join(dataDir, 'tls.crt.new'), join(dataDir, 'tls.crt'));
    await waitForSerial(svc.port, pki, renamed.certificate.serialNumber);
  });

  it('trusts a CA added to the trust store: old and new CA overlap, then a client of the new CA gets in', async () => {
    const newRoot = await createRootCa({ subject: 'CN=New Root CA,O=nest-mtls test' });
    const newClient = await issueCertificate(newRoot, { subject: 'CN=home-page-service,O=nest-mtls' });
    const asNewClient = { key: newClient.keyPem, cert: newClient.chainPem, ca: pki.root.certPem };
    await expect(httpsGet(svc.port, '/whoami', asNewClient)).rejects.toThrow();
    const current = source.current().material.identity.chain;
    // The key being served is the one in the volume now (no public object holds it).
    const servedKey = readFileSync(volume.path('tls.key'), 'utf8');
    const reloaded = nextReload();
    volume.update({ 'tls.crt': current.map((c) => c.toString()).join(''), 'tls.key': servedKey, 'ca.crt': pki.root.certPem + newRoot.certPem });
    expect((await reloaded).result).toBe('success');
    expect((await httpsGet(svc.port, '/whoami', asNewClient)).status).toBe(200);
    expect((await httpsGet(svc.port, '/whoami', pki.clientTls('home-page-service'))).status).toBe(200);
  });
});

/**
 * SIGHUP, with watching off (MTLS_WATCH=false): the built user-service as its
 * own process (HTTP_ADAPTER=express or fastify), its files rotated, then the signal.
 */
describe.each(HTTP_ADAPTERS)('%s: SIGHUP with MTLS_WATCH=false', (adapter) => {
  let pki: TestPki;
  let service: RunningService;
  let volume: SecretVolume;
  let port: number;

  beforeAll(async () => {
    pki = await TestPki.create();
    volume = new SecretVolume(join(pki.dir, 'secret'));
    const first = pki.certs['user-service'].issued;
    volume.update({ 'tls.crt': first.chainPem, 'tls.key': first.keyPem, 'ca.crt': pki.root.certPem });
    port = await freePort();
    service = await startService('user-service', {
      PORT: String(port),
      MTLS_CERT_PATH: volume.path('tls.crt'),
      MTLS_KEY_PATH: volume.path('tls.key'),
      MTLS_TRUST_STORE_PATH: volume.path('ca.crt'),
      MTLS_WATCH: 'false',
      HTTP_ADAPTER: adapter,
    });
  });

  afterAll(async () => {
    await service?.stop();
    pki?.cleanup();
  });

  it('does not follow the files without watching, and reloads on SIGHUP', async () => {
    const next = await issueCertificate(pki.global, { subject: 'CN=user-service,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1'] });
    volume.update({ 'tls.crt': next.chainPem, 'tls.key': next.keyPem, 'ca.crt': pki.root.certPem });
    await sleep(1000);
    expect(await servedSerial(port, pki)).toBe(pki.certs['user-service'].issued.certificate.serialNumber.toUpperCase());
    service.child.kill('SIGHUP');
    await waitForSerial(port, pki, next.certificate.serialNumber);
    expect(service.child.exitCode).toBeNull(); // SIGHUP reloads; it does not end the process
    expect(service.output()).toMatch(/reloaded the TLS material \(SIGHUP\): now serving serial/);
  });
});

/** The outbound client follows the material: new connections present the new certificate. */
describe('MtlsHttpClient after a swap', () => {
  let pki: TestPki;
  let server: RunningApp;
  let client: RunningApp;
  let volume: SecretVolume;

  beforeAll(async () => {
    pki = await TestPki.create();
    server = await startWithOptions(pki.pemOptions('user-service'), [WhoamiController]);
    volume = new SecretVolume(join(pki.dir, 'client-secret'));
    const first = pki.certs['home-page-service'].issued;
    volume.update({ 'tls.crt': first.chainPem, 'tls.key': first.keyPem, 'ca.crt': pki.root.certPem });
    client = await startWithOptions({ certPath: volume.path('tls.crt'), keyPath: volume.path('tls.key'), trustStorePath: volume.path('ca.crt') }, []);
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
    pki?.cleanup();
  });

  it('presents the new certificate (another subject) to the server within 5 s; pooled connections are not reused', async () => {
    const http = await client.app.resolve(MtlsHttpClient);
    const url = `https://localhost:${server.port}/whoami`;
    expect(await http.getJson(url)).toEqual({ subject: 'CN=home-page-service,O=nest-mtls' });
    const next = await issueCertificate(pki.global, { subject: 'CN=home-page-service-v2,O=nest-mtls' });
    volume.update({ 'tls.crt': next.chainPem, 'tls.key': next.keyPem, 'ca.crt': pki.root.certPem });
    const start = Date.now();
    let subject = '';
    while (Date.now() - start < 5000) {
      subject = (await http.getJson<{ subject: string }>(url)).subject;
      if (subject === 'CN=home-page-service-v2,O=nest-mtls') break;
      await sleep(50);
    }
    expect(subject).toBe('CN=home-page-service-v2,O=nest-mtls');
  });
});

/** Nest's enableShutdownHooks() without a signal list also ends the application on SIGHUP: said at startup. */
describe('SIGHUP and enableShutdownHooks', () => {
  it('warns when the application also shuts down on SIGHUP, and not with enableShutdownHooks([SIGTERM, SIGINT])', async () => {
    const pki = await TestPki.create();
    const { Test } = await import('@nestjs/testing');
    const { MtlsExpressAdapter, MtlsModule } = await import('nest-mtls');
    const { CapturingLogger } = await import('../support/start-app');
    const { Module } = await import('@nestjs/common');
    @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service'))] })
    class AppModule {}
    const warned: boolean[] = [];
    for (const signals of [undefined, ['SIGTERM', 'SIGINT']]) {
      const logs = new CapturingLogger();
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).setLogger(logs).compile();
      const app = moduleRef.createNestApplication(new MtlsExpressAdapter(), { logger: logs });
      app.enableShutdownHooks(signals);
      await app.init();
      warned.push(logs.lines.some((l) => /something else listens to SIGHUP too: app\.enableShutdownHooks\(\) without a list of signals/.test(l)));
      await app.close();
    }
    expect(warned).toEqual([true, false]);
    pki.cleanup();
  });
});
