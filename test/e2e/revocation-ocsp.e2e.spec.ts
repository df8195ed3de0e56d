import type { ConnectionOptions } from 'node:tls';
import { MtlsMaterialSource, type MtlsOptions } from 'nest-mtls';
import { issueCertificate, type IssuedCertificate } from 'nest-mtls/testing';
import { HealthController } from '../../apps/user-service/src/health.controller';
import type { IndexEntry } from '../support/openssl-ca';
import { OcspResponder } from '../support/ocsp-responder';
import { requestOnSocket } from '../support/raw-http';
import { requireTool } from '../support/require-tool';
import { startWithOptions, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { closedWithin, handshakeOutcome, tlsOpen } from '../support/tls-probe';

const describeOpenssl = requireTool('openssl', 'the OCSP tests (openssl ocsp is the responder)') ? describe : describe.skip;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * OCSP for client certificates, against `openssl ocsp` as the responder
 * (a delegated responder certificate with the OCSP-signing EKU, issued by
 * the global CA), with certificates that name it in their Authority
 * Information Access.
 */
describeOpenssl('OCSP for client certificates', () => {
  let pki: TestPki;
  let responder: OcspResponder;
  let entries: IndexEntry[];
  const certs: Record<string, IssuedCertificate> = {};
  const apps: RunningApp[] = [];
  const tlsOf = (name: string): ConnectionOptions => ({ key: certs[name].keyPem, cert: certs[name].chainPem, ca: pki.root.certPem });
  const entry = (name: string, revokedAt?: Date): IndexEntry => ({ serialNumber: certs[name].certificate.serialNumber, subject: `/CN=${name}`, revokedAt, reason: revokedAt ? 'keyCompromise' : undefined });
  const start = async (extra: Partial<MtlsOptions> = {}) => {
    const app = await startWithOptions(pki.pemOptions('user-service', { ocsp: true, revocationRefreshMs: 1000, ...extra }), [HealthController]);
    apps.push(app);
    return app;
  };
  const close = async (app: RunningApp) => {
    await app.close();
    apps.splice(apps.indexOf(app), 1);
  };

  beforeAll(async () => {
    pki = await TestPki.create();
    const caCert = pki.write('global-ca.crt', pki.global.certPem);
    const signer = await pki.issue('ocsp-signer', { subject: 'CN=OCSP responder,O=nest-mtls test', extendedKeyUsage: ['ocspSigning'] });
    responder = await OcspResponder.start(pki, { caCert, signerCert: signer.cert, signerKey: signer.key }, []);
    for (const name of ['ocsp-good', 'ocsp-revoked', 'ocsp-unlisted', 'ocsp-later']) {
      certs[name] = await issueCertificate(pki.global, { subject: `CN=${name},O=nest-mtls`, ocspUrls: [responder.url] });
    }
    certs['no-aia'] = await issueCertificate(pki.global, { subject: 'CN=no-aia,O=nest-mtls' });
    entries = [entry('ocsp-good'), entry('ocsp-revoked', new Date(Date.now() - 60_000)), entry('ocsp-later'), entry('no-aia')];
    await responder.update(entries);
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await responder?.stop();
    pki?.cleanup();
  });

  it('admits a good client, refuses a revoked one and one the responder does not know, each logged', async () => {
    const svc = await start();
    expect(await handshakeOutcome(svc.port, tlsOf('ocsp-good'))).toBe(200);
    expect(await handshakeOutcome(svc.port, { ...tlsOf('ocsp-revoked'), localAddress: '127.0.0.81' } as ConnectionOptions)).toBe('refused');
    expect(await handshakeOutcome(svc.port, { ...tlsOf('ocsp-unlisted'), localAddress: '127.0.0.82' } as ConnectionOptions)).toBe('refused');
    await sleep(100);
    expect(svc.logs.lines.find((l) => l.includes(' 127.0.0.81:'))).toMatch(
      new RegExp(`refused: revoked \\(serial ${certs['ocsp-revoked'].certificate.serialNumber}, issuer CN=Test Global CA,O=nest-mtls test, revoked at .* \\(keyCompromise\\), by ocsp ${responder.url.replace(/\./g, '\\.')}\\); presented subject CN=ocsp-revoked,O=nest-mtls$`),
    );
    expect(svc.logs.lines.find((l) => l.includes(' 127.0.0.82:'))).toMatch(/refused: revocation_unknown \(OCSP http:\/\/127\.0\.0\.1:\d+\/: .* does not know the certificate \(status unknown\)\)/);
    await close(svc);
  });

  it('keep-alive requests never query: answers are per connection and cached per certificate (the responder can even be down)', async () => {
    const svc = await start({ revocationRefreshMs: 60_000 });
    const checks: { source: string; cached: boolean }[] = [];
    const subscription = svc.app.get(MtlsMaterialSource).revocationChecks.subscribe((c) => checks.push(c));
    const socket = await tlsOpen(svc.port, tlsOf('ocsp-good'));
    for (let i = 0; i < 20; i++) expect(await requestOnSocket(socket, '/health')).toMatchObject({ status: 200 });
    expect(checks).toEqual([expect.objectContaining({ source: 'ocsp', result: 'good', cached: false })]);
    await responder.stop();
    try {
      for (let i = 0; i < 5; i++) expect(await requestOnSocket(socket, '/health')).toMatchObject({ status: 200 });
      expect(await handshakeOutcome(svc.port, tlsOf('ocsp-good'))).toBe(200); // a new connection: from memory
      expect(checks).toHaveLength(2);
      expect(checks[1]).toMatchObject({ source: 'ocsp', result: 'good', cached: true });
    } finally {
      socket.destroy();
      subscription.unsubscribe();
      await responder.restart();
      await close(svc);
    }
  });

  it('closes the keep-alive connection of a client revoked mid-connection within 10 s; its resumed session is refused', async () => {
    const svc = await start();
    const first = await tlsOpen(svc.port, tlsOf('ocsp-later'));
    const session = new Promise<Buffer>((resolve) => first.once('session', resolve));
    expect(await requestOnSocket(first, '/health')).toMatchObject({ status: 200 });
    const ticket = await session;
    first.destroy();
    const open = await tlsOpen(svc.port, tlsOf('ocsp-later'));
    expect(await requestOnSocket(open, '/health')).toMatchObject({ status: 200 });
    entries = entries.map((e) => (e.serialNumber === certs['ocsp-later'].certificate.serialNumber ? { ...e, revokedAt: new Date(), reason: 'keyCompromise' } : e));
    await responder.update(entries);
    const tookMs = await closedWithin(open, 10_000);
    expect(tookMs).toBeLessThan(10_000);
    expect(svc.logs.lines.some((l) => /^WARN open connection from 127\.0\.0\.1:\d+ closed: revoked \(serial [0-9A-F]+, .* by ocsp /.test(l))).toBe(true);
    const resumed = await tlsOpen(svc.port, { ...tlsOf('ocsp-later'), session: ticket });
    expect(resumed.isSessionReused()).toBe(true);
    expect(await requestOnSocket(resumed, '/health')).toBe('closed');
    resumed.destroy();
    await close(svc);
  });

  it('responder down: closed refuses (revocation_unknown), open admits with a warning', async () => {
    await responder.stop();
    try {
      const closed = await start();
      expect(await handshakeOutcome(closed.port, tlsOf('ocsp-good'))).toBe('refused');
      await sleep(100);
      expect(closed.logs.lines.find((l) => l.includes('refused:'))).toMatch(/refused: revocation_unknown \(OCSP http:\/\/127\.0\.0\.1:\d+\/: ECONNREFUSED\); presented subject CN=ocsp-good,O=nest-mtls; hint: /);
      await close(closed);
      const open = await start({ revocationFailure: 'open' });
      expect(await handshakeOutcome(open.port, tlsOf('ocsp-good'))).toBe(200);
      await sleep(100);
      expect(open.logs.lines.find((l) => l.includes('admitted without a revocation answer'))).toMatch(/revocation_unknown \(OCSP http:\/\/127\.0\.0\.1:\d+\/: ECONNREFUSED\); subject CN=ocsp-good,O=nest-mtls$/);
      await close(open);
    } finally {
      await responder.restart();
    }
  });

  it('a certificate without a responder needs ocspResponderUrl; answers signed by the CA itself are taken too', async () => {
    const without = await start();
    expect(await handshakeOutcome(without.port, tlsOf('no-aia'))).toBe('refused');
    await sleep(100);
    expect(without.logs.lines.find((l) => l.includes('refused:'))).toMatch(/refused: revocation_unknown \(no revocation information for CN=no-aia,O=nest-mtls \(serial [0-9A-F]+\): no CRL of CA CN=Test Global CA in crlPath, no OCSP responder\)/);
    await close(without);
    const caKey = pki.write('global-ca.key', pki.global.keyPem);
    const byCa = await OcspResponder.start(pki, { caCert: pki.path('global-ca.crt'), signerCert: pki.path('global-ca.crt'), signerKey: caKey }, entries);
    try {
      const svc = await start({ ocspResponderUrl: byCa.url });
      expect(await handshakeOutcome(svc.port, tlsOf('no-aia'))).toBe(200);
      expect(await handshakeOutcome(svc.port, tlsOf('ocsp-revoked'))).toBe('refused');
      await close(svc);
    } finally {
      await byCa.stop();
    }
  });

  it('refuses answers from a responder certificate without the OCSP-signing EKU', async () => {
    const impostor = await pki.issue('not-a-responder', { subject: 'CN=not a responder,O=nest-mtls test', extendedKeyUsage: ['clientAuth'] });
    const rogue = await OcspResponder.start(pki, { caCert: pki.path('global-ca.crt'), signerCert: impostor.cert, signerKey: impostor.key }, entries);
    try {
      const svc = await start({ ocspResponderUrl: rogue.url });
      expect(await handshakeOutcome(svc.port, tlsOf('ocsp-good'))).toBe('refused');
      await sleep(100);
      expect(svc.logs.lines.find((l) => l.includes('refused:'))).toMatch(/revocation_unknown \(OCSP http:\/\/127\.0\.0\.1:\d+\/: the response is signed by CN=not a responder, which lacks the OCSP-signing extended key usage\)/);
      await close(svc);
    } finally {
      await rogue.stop();
    }
  });
});
