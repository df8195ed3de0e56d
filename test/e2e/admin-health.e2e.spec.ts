import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MtlsExpressAdapter, MtlsModule, MtlsPolicyInventory, RequireClientCert } from 'nest-mtls';
import { MtlsAdminModule, MtlsAdminServer, mtlsAdminOptionsFromEnv } from 'nest-mtls/admin';
import { createCrl, issueCertificate } from 'nest-mtls/testing';
import { writeFileSync } from 'node:fs';
import { adminGet, startAdminApp, type AdminApp } from '../support/admin-app';
import { CapturingLogger, HTTP_ADAPTERS } from '../support/start-app';
import { PASSWORD, TempDir, TestPki } from '../support/test-pki';
import { httpsGet } from '../support/tls-probe';

const DAY = 24 * 3600 * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

@Controller('users')
@RequireClientCert(/^CN=home-page-service(,|$)/)
class GuardedController {
  @Get()
  list() {
    return [];
  }
}

/** GET /health on the admin port: terminus checks of our certificate, trust store, CRLs and reloads; up and down as they should be. */
describe('admin port: /health', () => {
  let pki: TestPki;
  let svc: AdminApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    // A PKCS#12 store with a password, and CRLs: what must not leak, and what health reports.
    svc = await startAdminApp({ keyStorePath: pki.certs['user-service'].p12, keyStorePassword: PASSWORD, trustStorePath: pki.trustStore, crlPath: pki.crlAll }, [GuardedController]);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('is ok (200) with our certificate, the trust store size, each CRL and the last reload', async () => {
    const res = await adminGet(svc.adminPort!, '/health');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/json/);
    const leaf = pki.certs['user-service'].issued.certificate;
    expect(res.json.status).toBe('ok');
    expect(res.json.error).toEqual({});
    const { certificate, trustStore, crls, reload } = res.json.details;
    expect(certificate).toMatchObject({
      status: 'up',
      subject: 'CN=user-service,O=nest-mtls',
      issuer: 'CN=Test Global CA,O=nest-mtls test',
      serial: leaf.serialNumber,
      notAfter: new Date(leaf.validTo).toISOString(),
      warningDays: 14,
      expiresSoon: false,
      roles: ['serverAuth'],
    });
    expect(certificate.daysLeft).toBeGreaterThan(300);
    expect(trustStore).toEqual({ status: 'up', size: 1 });
    expect(crls).toMatchObject({ status: 'up', configured: true, failurePolicy: 'closed', count: 2 });
    expect(crls.crls.map((c: { issuer: string }) => c.issuer)).toEqual(['CN=Test Root CA,O=nest-mtls test', 'CN=Test Global CA,O=nest-mtls test']);
    expect(crls.crls.every((c: { current: boolean; nextUpdate: string }) => c.current && Date.parse(c.nextUpdate) > Date.now())).toBe(true);
    expect(reload).toMatchObject({ status: 'up', generation: 1, lastResult: 'none' });
    expect(res.json.details.listening).toEqual({ status: 'up' });
  });

  it('is not ready (503, listening down) until the application listens: the admin port opens while it bootstraps', async () => {
    @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service')), MtlsAdminModule.forRoot({ port: 0 })] })
    class NotYetModule {}
    const app = await NestFactory.create(NotYetModule, new MtlsExpressAdapter(), { logger: new CapturingLogger(), abortOnError: false });
    try {
      await app.init();
      const adminPort = app.get(MtlsAdminServer).address()!.port;
      const early = await adminGet(adminPort, '/health');
      expect(early.status).toBe(503);
      expect(early.json.error).toEqual({ listening: { status: 'down', message: 'the application does not listen yet' } });
      expect((await adminGet(adminPort, '/health/live')).status).toBe(200);
      await app.listen(0, '127.0.0.1');
      expect((await adminGet(adminPort, '/health')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('reveals no key material or password on any path, and no policy outside /policies', async () => {
    const key = pki.certs['user-service'].issued.keyPem;
    const keyBody = key.split('\n')[1];
    for (const path of ['/health', '/health/live', '/metrics', '/', '/env', '/config', '/health/../metrics']) {
      const { body } = await adminGet(svc.adminPort!, path);
      expect(body).not.toContain('PRIVATE KEY');
      expect(body).not.toContain(keyBody);
      expect(body).not.toContain(PASSWORD);
      expect(body).not.toContain('home-page-service(,|$)'); // the route's policy
    }
  });

  it('answers GET and HEAD on /health, /health/live, /metrics and /policies only; 404 elsewhere, 405 for other methods', async () => {
    expect(await adminGet(svc.adminPort!, '/health/live')).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect((await adminGet(svc.adminPort!, '/health', 'HEAD')).status).toBe(200);
    expect((await adminGet(svc.adminPort!, '/health', 'HEAD')).body).toBe('');
    expect((await adminGet(svc.adminPort!, '/policies')).status).toBe(200);
    expect((await adminGet(svc.adminPort!, '/users')).status).toBe(404); // the application's routes are not here
    expect((await adminGet(svc.adminPort!, '/health', 'DELETE')).status).toBe(405);
    expect((await adminGet(svc.adminPort!, '/health?verbose=1')).status).toBe(200);
  });

  it('listens on 127.0.0.1 by default, beside the mTLS port, with no client certificate', async () => {
    expect(svc.app.get(MtlsAdminServer).address()?.address).toBe('127.0.0.1');
    expect(svc.adminPort).not.toBe(svc.port);
    // The mTLS port still demands a certificate, and the guard still judges it.
    expect((await httpsGet(svc.port, '/users', pki.clientTls('home-page-service'))).status).toBe(200);
    expect((await httpsGet(svc.port, '/users', pki.clientTls('event-service'))).status).toBe(403);
  });

  it('warns (expiresSoon, still ok) when our certificate has fewer days left than MTLS_EXPIRY_WARNING_DAYS', async () => {
    const soon = await pki.issue('expires-in-5-days', { subject: 'CN=user-service,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1'], notAfter: new Date(Date.now() + 5 * DAY) });
    const warned = await startAdminApp(pki.pemOptions('expires-in-5-days'), [], { admin: { ...mtlsAdminOptionsFromEnv({ ADMIN_PORT: '0', MTLS_EXPIRY_WARNING_DAYS: '7' }) } });
    const quiet = await startAdminApp(pki.pemOptions('expires-in-5-days'), [], { admin: { ...mtlsAdminOptionsFromEnv({ ADMIN_PORT: '0', MTLS_EXPIRY_WARNING_DAYS: '3' }) } });
    try {
      const res = await adminGet(warned.adminPort!, '/health');
      expect(res.status).toBe(200);
      expect(res.json.status).toBe('ok');
      expect(res.json.details.certificate).toMatchObject({ status: 'up', serial: soon.issued.certificate.serialNumber, warningDays: 7, expiresSoon: true });
      expect(res.json.details.certificate.daysLeft).toBeGreaterThan(4.8);
      expect(res.json.details.certificate.daysLeft).toBeLessThanOrEqual(5);
      expect(res.json.details.certificate.warning).toMatch(/^our certificate expires in 4\.9 days \(warning from 7 days\): renew it$/);
      const calm = await adminGet(quiet.adminPort!, '/health');
      expect(calm.json.details.certificate).toMatchObject({ warningDays: 3, expiresSoon: false });
      expect(calm.json.details.certificate.warning).toBeUndefined();
    } finally {
      await warned.close();
      await quiet.close();
    }
  });

  it('goes down (503) when a reload fails, says why, and comes back with the next good material', async () => {
    const files = new TempDir('nest-mtls-health-');
    const us = pki.certs['user-service'].issued;
    const app = await startAdminApp({ certPath: files.write('tls.crt', us.chainPem), keyPath: files.write('tls.key', us.keyPem), trustStorePath: pki.trustStore, watch: false }, []);
    try {
      writeFileSync(files.path('tls.crt'), 'not a certificate');
      expect((await app.source.reload('test')).result).toBe('failure');
      const down = await adminGet(app.adminPort!, '/health');
      expect(down.status).toBe(503);
      expect(down.json.status).toBe('error');
      expect(Object.keys(down.json.error)).toEqual(['reload']);
      expect(down.json.error.reload).toMatchObject({ status: 'down', lastResult: 'failure', generation: 1, message: 'the last reload failed; still serving generation 1' });
      expect(down.json.error.reload.error).toMatch(/^certPath: not a PEM, PKCS#12 or JKS file: .*tls\.crt$/);
      expect(down.json.details.certificate.status).toBe('up'); // still serving the last good certificate
      expect(app.logs.lines.some((l) => /^WARN health is error: reload: the last reload failed/.test(l))).toBe(true);

      const renewed = await issueCertificate(pki.global, { subject: 'CN=user-service,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1'] });
      writeFileSync(files.path('tls.crt'), renewed.chainPem);
      writeFileSync(files.path('tls.key'), renewed.keyPem);
      expect((await app.source.reload('test')).result).toBe('success');
      const up = await adminGet(app.adminPort!, '/health');
      expect(up.status).toBe(200);
      expect(up.json.details.reload).toMatchObject({ status: 'up', lastResult: 'success', generation: 2, trigger: 'test' });
      expect(up.json.details.certificate.serial).toBe(renewed.certificate.serialNumber);
      expect(app.logs.lines).toContain('LOG health is ok again');
    } finally {
      await app.close();
      files.cleanup();
    }
  });

  it('goes down (503) when our certificate expires while the service runs, and when a CRL passes its nextUpdate (failure policy closed)', async () => {
    const validFor = 5000;
    const short = await pki.issue('expires-soon', { subject: 'CN=user-service,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1'], notAfter: new Date(Date.now() + validFor) });
    const staleSoon = new Date(Date.now() + validFor);
    const crls = pki.write('crl-stale-soon.pem', (await createCrl(pki.root)) + (await createCrl(pki.global, { nextUpdate: staleSoon })));
    const [expiring, crlBound] = await Promise.all([
      startAdminApp(pki.pemOptions('expires-soon', { watch: false }), []),
      startAdminApp(pki.pemOptions('user-service', { crlPath: crls, watch: false }), []),
    ]);
    try {
      expect((await adminGet(expiring.adminPort!, '/health')).status).toBe(200);
      expect((await adminGet(crlBound.adminPort!, '/health')).status).toBe(200);
      await sleep(Math.max(0, new Date(short.issued.certificate.validTo).getTime() - Date.now()) + 1200);

      const expired = await adminGet(expiring.adminPort!, '/health');
      expect(expired.status).toBe(503);
      expect(Object.keys(expired.json.error)).toEqual(['certificate']);
      expect(expired.json.error.certificate).toMatchObject({ status: 'down', serial: short.issued.certificate.serialNumber, expiresSoon: true });
      expect(expired.json.error.certificate.message).toBe(`our certificate expired on ${new Date(short.issued.certificate.validTo).toISOString()}`);
      expect(expired.json.error.certificate.daysLeft).toBeLessThan(0);

      const stale = await adminGet(crlBound.adminPort!, '/health');
      expect(stale.status).toBe(503);
      expect(Object.keys(stale.json.error)).toEqual(['crls']);
      expect(stale.json.error.crls.message).toMatch(/^the CRL of CN=Test Global CA,O=nest-mtls test is past its nextUpdate \(.*\): every client it covers is refused; publish a current CRL$/);
      expect(stale.json.error.crls.crls.map((c: { current: boolean }) => c.current)).toEqual([true, false]);
    } finally {
      await expiring.close();
      await crlBound.close();
    }
  });

  it('has no admin listener when no port is given (ADMIN_PORT unset)', async () => {
    expect(mtlsAdminOptionsFromEnv({})).toEqual({ port: undefined, host: '127.0.0.1', expiryWarningDays: 14 });
    const none = await startAdminApp(pki.pemOptions('user-service'), [], { admin: mtlsAdminOptionsFromEnv({}) });
    try {
      expect(none.app.get(MtlsAdminServer).address()).toBeUndefined();
      expect(none.adminPort).toBeUndefined();
    } finally {
      await none.close();
    }
  });

  it("refuses to start with an empty host, naming the option (Node would bind the admin port, which asks for no certificate, on every interface)", async () => {
    @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service')), MtlsAdminModule.forRoot({ port: 0, host: '' })] })
    class EmptyHostModule {}
    let app: INestApplication | undefined;
    try {
      const started = (async () => {
        app = await NestFactory.create(EmptyHostModule, new MtlsExpressAdapter(), { logger: new CapturingLogger(), abortOnError: false });
        await app.listen(0, '127.0.0.1');
        return app.get(MtlsAdminServer).address()?.address; // where it would listen
      })();
      await expect(started).rejects.toThrow(/^host: must be an address to bind, got "" \(an empty host binds the admin port, which asks for no certificate, on every interface\)/);
    } finally {
      await app?.close();
    }
  });

  it('refuses to start when the admin port is taken, naming ADMIN_PORT', async () => {
    @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service')), MtlsAdminModule.forRoot({ port: svc.adminPort })] })
    class TakenPortModule {}
    const app = await NestFactory.create(TakenPortModule, new MtlsExpressAdapter(), { logger: new CapturingLogger(), abortOnError: false });
    await expect(app.listen(0, '127.0.0.1')).rejects.toThrow(`ADMIN_PORT: the admin port cannot listen on 127.0.0.1:${svc.adminPort}: EADDRINUSE`);
    await app.close();
  });
});

@Controller('users')
class InventoryController {
  @Get(':id')
  @RequireClientCert({ spiffeId: 'spiffe://example.org/home-page-service' })
  one() {
    return {};
  }

  @Get()
  @RequireClientCert(/^CN=home-page-service(,|$)/)
  all() {
    return [];
  }
}

@Controller('open')
class UnguardedController {
  @Get()
  open() {
    return 'open';
  }
}

/** GET /policies on the admin port: the policy inventory (issue 10) for reviewers, on both adapters; never on the mTLS port. */
describe.each(HTTP_ADAPTERS)('admin port: /policies (%s)', (adapter) => {
  let pki: TestPki;
  let svc: AdminApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startAdminApp(pki.pemOptions('user-service'), [InventoryController, UnguardedController], { adapter });
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('lists every route with who may call it, in words, and its mode', async () => {
    const res = await adminGet(svc.adminPort!, '/policies');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/json/);
    const byRoute = Object.fromEntries(res.json.policies.map((p: { route: string }) => [p.route, p]));
    expect(byRoute['GET /users/:id']).toEqual({
      transport: 'http',
      route: 'GET /users/:id',
      handler: 'InventoryController.one',
      guarded: true,
      policy: expect.stringContaining('spiffe://example.org/home-page-service'),
      mode: 'enforce',
    });
    expect(byRoute['GET /users']).toMatchObject({ guarded: true, policy: expect.stringContaining('home-page-service'), mode: 'enforce' });
    expect(byRoute['GET /open']).toMatchObject({ guarded: false, policy: expect.stringMatching(/^not checked/) });
    expect(res.json.policies).toHaveLength(3);
    // The same list the application itself holds.
    expect(res.json.policies).toEqual(svc.app.get(MtlsPolicyInventory).list());
  });

  it('is not served to callers of the mTLS port, even trusted ones', async () => {
    const res = await httpsGet(svc.port, '/policies', pki.clientTls('home-page-service'));
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('spiffe://example.org/home-page-service');
  });

  it('is off with policies: false (404, and not among the paths the admin port announces)', async () => {
    const off = await startAdminApp(pki.pemOptions('user-service'), [InventoryController], { admin: { port: 0, policies: false }, adapter });
    try {
      expect((await adminGet(off.adminPort!, '/policies')).status).toBe(404);
      expect((await adminGet(off.adminPort!, '/health')).status).toBe(200);
      expect(off.logs.lines.find((l) => /admin port open/.test(l))).toMatch(/\(\/health, \/health\/live, \/metrics; no client certificate\)/);
    } finally {
      await off.close();
    }
  });
});
