import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { MtlsEvents, type MtlsOptions } from 'nest-mtls';
import { createCrl, createIntermediateCa, issueCertificate, type IssuedCertificate } from 'nest-mtls/testing';
import { HealthController } from '../../apps/user-service/src/health.controller';
import { CrlServer } from '../support/crl-server';
import { requestOnSocket } from '../support/raw-http';
import { startWithOptions, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { closedWithin, handshakeOutcome, tlsOpen } from '../support/tls-probe';
import { waitForLine } from '../support/wait-for';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const der = (pem: string) => Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----/g, ''), 'base64');
const tlsOf = (c: IssuedCertificate, pki: TestPki): ConnectionOptions => ({ key: c.keyPem, cert: c.chainPem, ca: pki.root.certPem });

/**
 * CRL distribution points (enableCRLDP, Dropwizard's name): the CRLs named by
 * client certificates are downloaded from a real HTTP server on loopback,
 * checked, cached (in memory and in crlCacheDir) and applied right after the
 * handshake; the server is stopped, slowed and made to lie to test the
 * failure policy and the bounds.
 */
describe('CRL distribution points', () => {
  let pki: TestPki;
  let server: CrlServer;
  let good: IssuedCertificate;
  let revoked: IssuedCertificate;
  const apps: RunningApp[] = [];
  const start = async (extra: Partial<MtlsOptions> = {}) => {
    // The root's CRL as a file covers the global CA (crlCheck chain); the client certificates' CRL comes from the distribution point,
    // a host the test CAs do not name themselves: allowed by revocationAllowedHosts.
    const app = await startWithOptions(
      pki.pemOptions('user-service', { crlPath: pki.crlRootOnly, enableCRLDP: true, revocationRefreshMs: 1000, revocationAllowedHosts: [`127.0.0.1:${server.port}`], ...extra }),
      [HealthController],
    );
    apps.push(app);
    return app;
  };
  const issue = (name: string, url = server.url('global.crl')) => issueCertificate(pki.global, { subject: `CN=${name},O=nest-mtls`, crlDistributionPoints: [url] });
  const publishGlobalCrl = async (...revokedCerts: IssuedCertificate[]) =>
    server.files.set('global.crl', der(await createCrl(pki.global, { revoked: revokedCerts.map((c) => ({ serialNumber: c.certificate.serialNumber })) })));

  beforeAll(async () => {
    pki = await TestPki.create();
    server = await CrlServer.start();
    good = await issue('dp-good');
    revoked = await issue('dp-revoked');
    await publishGlobalCrl(revoked);
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await server?.stop();
    pki?.cleanup();
  });

  describe('a service with enableCRLDP', () => {
    let svc: RunningApp;
    beforeAll(async () => {
      svc = await start();
    });

    it('downloads the CRL once for concurrent first connections, admits a good client (its request waits for the answer) and refuses a revoked one', async () => {
      expect(server.count('global.crl')).toBe(0);
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => handshakeOutcome(svc.port, tlsOf(good, pki))));
      expect(outcomes).toEqual([200, 200, 200, 200, 200]);
      expect(server.count('global.crl')).toBe(1);
      expect(await handshakeOutcome(svc.port, { ...tlsOf(revoked, pki), localAddress: '127.0.0.71' })).toBe('refused');
      await waitForLine(svc.logs.lines, / 127\.0\.0\.71:/);
      const lines = svc.logs.lines.filter((l) => l.includes(' 127.0.0.71:'));
      expect(lines).toEqual([
        expect.stringMatching(
          new RegExp(`^WARN connection from 127\\.0\\.0\\.71:\\d+ refused: revoked \\(serial ${revoked.certificate.serialNumber}, issuer CN=Test Global CA,O=nest-mtls test, revoked at .*, by crldp ${server.url('global.crl')}\\); presented subject CN=dp-revoked,O=nest-mtls$`),
        ),
      ]);
      expect(server.count('global.crl')).toBe(1); // answered from memory
    });

    it('a CRL published later closes the open connection of the caller it revokes within 10 s, and its resumed session is refused', async () => {
      const caller = await issue('dp-later');
      const session = await new Promise<Buffer>((resolve, reject) => {
        void tlsOpen(svc.port, tlsOf(caller, pki)).then(async (socket) => {
          socket.once('session', resolve);
          if ((await requestOnSocket(socket, '/health')) === 'closed') reject(new Error('closed'));
          setTimeout(() => socket.destroy(), 100);
        }, reject);
      });
      const open = await tlsOpen(svc.port, tlsOf(caller, pki));
      expect(await requestOnSocket(open, '/health')).toMatchObject({ status: 200 });
      await publishGlobalCrl(revoked, caller);
      expect(await closedWithin(open, 10_000)).toBeLessThan(10_000);
      expect(svc.logs.lines.some((l) => l.includes('open connection from') && l.includes(`closed: revoked (serial ${caller.certificate.serialNumber}`))).toBe(true);
      const resumed = await tlsOpen(svc.port, { ...tlsOf(caller, pki), session });
      expect(resumed.isSessionReused()).toBe(true); // no reload: the ticket keys are the same, OpenSSL resumes without looking at CRLs
      expect(await requestOnSocket(resumed, '/health')).toBe('closed');
      resumed.destroy();
      expect(await handshakeOutcome(svc.port, tlsOf(good, pki))).toBe(200);
    });

    it('reports each answer for metrics: source crldp, result, from memory or not', async () => {
      const checks: unknown[] = [];
      const subscription = svc.app.get(MtlsEvents).revocationChecks.subscribe((c) => checks.push(c));
      expect(await handshakeOutcome(svc.port, tlsOf(good, pki))).toBe(200);
      subscription.unsubscribe();
      expect(checks).toEqual(
        expect.arrayContaining([
          { source: 'crldp', result: 'good', subject: 'CN=dp-good,O=nest-mtls', serialNumber: good.certificate.serialNumber, issuer: 'CN=Test Global CA,O=nest-mtls test', cached: true },
          expect.objectContaining({ source: 'crl', result: 'good', subject: 'CN=Test Global CA,O=nest-mtls test' }),
        ]),
      );
    });
  });

  it('checks the CAs of a chain through their distribution points too (crlCheck chain)', async () => {
    const intOk = await createIntermediateCa(pki.root, { subject: 'CN=Team CA ok,O=nest-mtls test', crlDistributionPoints: [server.url('root.crl')] });
    const intBad = await createIntermediateCa(pki.root, { subject: 'CN=Team CA revoked,O=nest-mtls test', crlDistributionPoints: [server.url('root.crl')] });
    server.files.set('root.crl', await createCrl(pki.root, { revoked: [{ serialNumber: intBad.certificate.serialNumber }] })); // PEM this time
    server.files.set('team-ok.crl', der(await createCrl(intOk)));
    server.files.set('team-bad.crl', der(await createCrl(intBad)));
    const underOk = await issueCertificate(intOk, { subject: 'CN=team-ok-client', crlDistributionPoints: [server.url('team-ok.crl')] });
    const underBad = await issueCertificate(intBad, { subject: 'CN=team-bad-client', crlDistributionPoints: [server.url('team-bad.crl')] });
    const svc = await startWithOptions(pki.pemOptions('user-service', { enableCRLDP: true, crlCheck: 'leaf', crlPath: pki.crlAll, revocationAllowedHosts: [`127.0.0.1:${server.port}`] }), [HealthController]);
    apps.push(svc);
    const chain = await start({ crlPath: undefined });
    expect(await handshakeOutcome(chain.port, tlsOf(underOk, pki))).toBe(200);
    expect(await handshakeOutcome(chain.port, tlsOf(underBad, pki))).toBe('refused');
    expect(chain.logs.lines.find((l) => l.includes('refused: revoked'))).toContain(`serial ${intBad.certificate.serialNumber}, issuer CN=Test Root CA,O=nest-mtls test`);
    // crlCheck leaf does not look above the client certificate.
    expect(await handshakeOutcome(svc.port, tlsOf(underBad, pki))).toBe(200);
  });

  describe('when the CRL server is down, slow or lies', () => {
    it('closed: a certificate whose CRL cannot be had is refused (revocation_unknown); open: admitted with a warning', async () => {
      // One application at a time: Nest's loggers write to the logger of the application made last.
      const stranger = await issue('dp-stranger', server.url('stranger.crl'));
      server.files.set('stranger.crl', der(await createCrl(pki.global)));
      const closed = await start();
      await server.stop();
      try {
        expect(await handshakeOutcome(closed.port, tlsOf(stranger, pki))).toBe('refused');
        await waitForLine(closed.logs.lines, /refused: revocation_unknown/);
        expect(closed.logs.lines.find((l) => l.includes('refused: revocation_unknown'))).toMatch(
          /refused: revocation_unknown \(the CRL of CA CN=Test Global CA could not be downloaded: http:\/\/127\.0\.0\.1:\d+\/stranger\.crl: ECONNREFUSED\); presented subject CN=dp-stranger,O=nest-mtls; hint: the revocation status/,
        );
        await server.restart();
        await sleep(2100); // past the retry pause after a failure
        expect(await handshakeOutcome(closed.port, tlsOf(stranger, pki))).toBe(200);
        await closed.close();
        apps.splice(apps.indexOf(closed), 1);
        const open = await start({ revocationFailure: 'open' });
        await server.stop();
        expect(await handshakeOutcome(open.port, tlsOf(stranger, pki))).toBe(200);
        await waitForLine(open.logs.lines, /admitted without a revocation answer/);
        expect(open.logs.lines.find((l) => l.includes('admitted without a revocation answer'))).toMatch(/revocation_unknown \(the CRL of CA CN=Test Global CA could not be downloaded: .*ECONNREFUSED\); subject CN=dp-stranger,O=nest-mtls$/);
      } finally {
        await server.restart();
      }
    });

    it('keeps CRLs in crlCacheDir: a restarted service answers from disk while the CRL server is down', async () => {
      const cacheDir = mkdtempSync(join(tmpdir(), 'nest-mtls-crl-cache-'));
      const first = await start({ crlCacheDir: cacheDir });
      expect(await handshakeOutcome(first.port, tlsOf(good, pki))).toBe(200);
      expect(readdirSync(cacheDir).filter((f) => f.endsWith('.crl'))).toHaveLength(1);
      await first.close();
      apps.splice(apps.indexOf(first), 1);
      await server.stop();
      try {
        const second = await start({ crlCacheDir: cacheDir });
        expect(await handshakeOutcome(second.port, tlsOf(good, pki))).toBe(200);
        expect(await handshakeOutcome(second.port, tlsOf(revoked, pki))).toBe('refused');
        const without = await start();
        expect(await handshakeOutcome(without.port, tlsOf(good, pki))).toBe('refused'); // control: no disk cache, no answer
      } finally {
        await server.restart();
      }
    });

    it('bounds the time: a server that never answers is given revocationTimeoutMs', async () => {
      const svc = await start({ revocationTimeoutMs: 500 });
      const slow = await issue('dp-slow', server.url('hangs.crl'));
      server.hangs.add('hangs.crl');
      const started = Date.now();
      expect(await handshakeOutcome(svc.port, tlsOf(slow, pki))).toBe('refused');
      expect(Date.now() - started).toBeLessThan(3000);
      await waitForLine(svc.logs.lines, /refused: revocation_unknown/);
      expect(svc.logs.lines.find((l) => l.includes('refused: revocation_unknown'))).toMatch(/hangs\.crl did not answer within 500 ms/);
    });

    it('refuses what a CRL signed by another key says', async () => {
      const svc = await start();
      const fooled = await issue('dp-fooled', server.url('forged.crl'));
      server.files.set('forged.crl', der(await createCrl({ ...pki.otherGlobal, certPem: pki.global.certPem })));
      expect(await handshakeOutcome(svc.port, tlsOf(fooled, pki))).toBe('refused');
      await waitForLine(svc.logs.lines, /refused: revocation_unknown/);
      expect(svc.logs.lines.find((l) => l.includes('refused: revocation_unknown'))).toMatch(/the signature of the CRL from .*forged\.crl does not verify with the key of CA CN=Test Global CA/);
    });
  });
});
