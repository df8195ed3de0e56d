import { Controller, Get } from '@nestjs/common';
import { filter, firstValueFrom, Subject } from 'rxjs';
import { ClientCert, MtlsConfigError, MtlsMaterialSource, RequireClientCert, type ClientIdentity, type MtlsPemMaterial, type MtlsPemSource, type MtlsReloadResult } from 'nest-mtls';
import { issueCertificate, type IssuedCertificate } from 'nest-mtls/testing';
import { keysIn } from '../support/reachable-secrets';
import { HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { httpsGet, tlsOpen } from '../support/tls-probe';

@Controller()
class WhoamiController {
  @Get('whoami')
  @RequireClientCert(/^CN=home-page-service,/)
  whoami(@ClientCert() caller: ClientIdentity): { subject: string } {
    return { subject: caller.subject };
  }
}

/** The serial number of the certificate a new handshake is served (upper-case hex, as Node prints it). */
async function servedSerial(port: number, pki: TestPki): Promise<string> {
  const socket = await tlsOpen(port, pki.clientTls('home-page-service'));
  try {
    return socket.getPeerX509Certificate()!.serialNumber.toUpperCase();
  } finally {
    socket.destroy();
  }
}

/**
 * A source of material of the application's own (`MtlsModule.forRoot({ source })`):
 * PEM text from memory, rotated in memory, served over real TLS, with no
 * file of material anywhere; checked as files are.
 */
describe.each(HTTP_ADAPTERS)('%s: a MtlsPemSource supplies the material', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;
  let source: MtlsMaterialSource;
  const changed = new Subject<void>();
  let current: MtlsPemMaterial;
  const memory: MtlsPemSource = { name: 'memory', read: () => current, changed };
  const issue = () => issueCertificate(pki.global, { subject: 'CN=user-service,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1'] });
  const pem = (cert: IssuedCertificate): MtlsPemMaterial => ({ key: cert.keyPem, cert: cert.chainPem, ca: pki.root.certPem });
  const nextReload = () => firstValueFrom(source.reloads.pipe(filter((r: MtlsReloadResult) => r.result !== 'unchanged')));

  beforeAll(async () => {
    pki = await TestPki.create();
    current = pem(await issue());
    svc = await startWithOptions({ source: memory }, [WhoamiController], [], adapter);
    source = svc.app.get(MtlsMaterialSource);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('serves it: the policy admits a verified caller, and no material file is configured', async () => {
    const answer = await httpsGet(svc.port, '/whoami', pki.clientTls('home-page-service'));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ subject: 'CN=home-page-service,O=nest-mtls' });
    expect((await httpsGet(svc.port, '/whoami', pki.clientTls('event-service'))).status).toBe(403);
    const { options, material } = source.current();
    expect([options.keyStorePath, options.certPath, options.keyPath, options.trustStorePath, options.crlPath]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(material.identity.source).toBe('memory');
  });

  it('a rotation in memory reaches new handshakes after the source says `changed`', async () => {
    const before = await servedSerial(svc.port, pki);
    const next = await issue();
    current = pem(next);
    const reloaded = nextReload();
    changed.next();
    expect(await reloaded).toMatchObject({ result: 'success', reason: 'change in memory', generation: source.current().generation });
    expect(await servedSerial(svc.port, pki)).toBe(next.certificate.serialNumber.toUpperCase());
    expect(before).not.toBe(next.certificate.serialNumber.toUpperCase());
    expect((await httpsGet(svc.port, '/whoami', pki.clientTls('home-page-service'))).status).toBe(200);
  });

  it('material that fails the checks is never served: the last good stays, and the failure names `source`', async () => {
    const served = await servedSerial(svc.port, pki);
    const a = await issue();
    const b = await issue();
    current = { key: b.keyPem, cert: a.chainPem, ca: pki.root.certPem }; // a key that is not the certificate's
    const reloaded = nextReload();
    changed.next();
    const result = await reloaded;
    expect(result.result).toBe('failure');
    expect(result.error).toBe('source: the private key of memory does not match its certificate');
    expect(await servedSerial(svc.port, pki)).toBe(served);
    current = pem(a);
    const fixed = nextReload();
    changed.next();
    expect((await fixed).result).toBe('success');
    expect(await servedSerial(svc.port, pki)).toBe(a.certificate.serialNumber.toUpperCase());
  });

  it('nothing the source hands out reaches the private key', () => {
    expect(keysIn(source.current())).toEqual([]);
  });
});

describe('the private key stays out of public objects', () => {
  let pki: TestPki;
  beforeAll(async () => (pki = await TestPki.create()));
  afterAll(() => pki?.cleanup());

  it('the snapshot of material read from files holds no private key (not even by walking it)', async () => {
    const svc = await startWithOptions(pki.pemOptions('user-service'), [WhoamiController]);
    try {
      const snapshot = svc.app.get(MtlsMaterialSource).current();
      expect(keysIn(snapshot)).toEqual([]);
      expect(Object.keys(snapshot.material.identity).sort()).toEqual(['chain', 'source']);
    } finally {
      await svc.close();
    }
  });

  it('a source with material files too, or without read(), stops the application before it listens', async () => {
    const memory: MtlsPemSource = { name: 'memory', read: () => ({ key: '', cert: '', ca: '' }) };
    await expect(MtlsMaterialSource.create({ source: memory, certPath: pki.path('user-service.crt') })).rejects.toThrow(new MtlsConfigError('source', 'supplies the material, so certPath must not be set too'));
    await expect(MtlsMaterialSource.create({ source: { name: 'x' } as never })).rejects.toThrow(/^source: must be a MtlsPemSource/);
    await expect(MtlsMaterialSource.create({ source: memory })).rejects.toThrow('source: memory: read() returned no key (PEM text)');
    const failing: MtlsPemSource = { name: 'vault', read: () => Promise.reject(new Error('connection refused')) };
    await expect(MtlsMaterialSource.create({ source: failing })).rejects.toThrow('source: vault: read() failed: connection refused');
  });

  it("a source's close() is called once: when its MtlsMaterialSource closes, or when startup fails", async () => {
    await expect(MtlsMaterialSource.create({ source: { name: 'x', read: () => ({ key: '', cert: '', ca: '' }), close: 'now' } as never })).rejects.toThrow(
      'source: close must be a function (called at shutdown), when given',
    );
    const closed: string[] = [];
    const broken: MtlsPemSource = { name: 'broken', read: () => ({ key: '', cert: '', ca: '' }), close: () => closed.push('broken') };
    await expect(MtlsMaterialSource.create({ source: broken })).rejects.toThrow('source: broken: read() returned no key');
    expect(closed).toEqual(['broken']);
    const user = pki.certs['user-service'].issued;
    const good: MtlsPemSource = { name: 'good', read: () => ({ key: user.keyPem, cert: user.chainPem, ca: pki.root.certPem }), close: () => closed.push('good') };
    const source = await MtlsMaterialSource.create({ source: good });
    expect(closed).toEqual(['broken']);
    source.close();
    source.close();
    expect(closed).toEqual(['broken', 'good']);
  });
});
