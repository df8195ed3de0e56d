import type { ConnectionOptions } from 'node:tls';
import { MtlsMaterialSource, type MtlsReloadResult } from 'nest-mtls';
import { secureContextOf } from 'nest-mtls/internal';
import { filter, firstValueFrom } from 'rxjs';
import { HealthController } from '../../apps/user-service/src/health.controller';
import { readFileSync } from 'node:fs';
import { createCrl, createIntermediateCa, issueCertificate, randomSerialNumber } from 'nest-mtls/testing';
import { opensslCrl, replaceFile, type IndexEntry } from '../support/openssl-ca';
import { requestOnSocket } from '../support/raw-http';
import { HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { closedWithin, handshakeOutcome, tlsOpen } from '../support/tls-probe';
import { waitFor, waitForLine } from '../support/wait-for';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3600_000;

/** A TLS 1.3 session ticket from one whole request on a fresh connection. */
async function sessionOf(port: number, tls: ConnectionOptions): Promise<Buffer> {
  const socket = await tlsOpen(port, tls);
  const session = new Promise<Buffer>((resolve) => socket.once('session', resolve));
  expect(await requestOnSocket(socket, '/health')).toMatchObject({ status: 200 });
  const ticket = await session;
  socket.destroy();
  return ticket;
}

/** Resumes `session`: whether the server took the resumption, and what one request on it got. */
async function resumed(port: number, tls: ConnectionOptions, session: Buffer): Promise<{ reused: boolean; answer: Awaited<ReturnType<typeof requestOnSocket>> }> {
  const socket = await tlsOpen(port, { ...tls, session });
  const reused = socket.isSessionReused();
  const answer = await requestOnSocket(socket, '/health');
  socket.destroy();
  return { reused, answer };
}

/**
 * CRL files that live: the revocation gate right after the handshake applies
 * the CRLs OpenSSL is not given (crlCheck leaf, revocationFailure open) and
 * every CRL to resumed sessions; a CRL file replaced by rename applies
 * without a restart, to new handshakes, resumed sessions and open
 * connections alike.
 */
describe.each(HTTP_ADAPTERS)('CRL files: the gate after the handshake (%s)', (adapter) => {
  let pki: TestPki;

  beforeAll(async () => {
    pki = await TestPki.create();
  });
  afterAll(() => pki?.cleanup());

  describe('crlCheck leaf: only the client certificate, against its issuer\'s CRL', () => {
    let svc: RunningApp;
    let crlPath: string;

    beforeAll(async () => {
      // The global CA's CRL only: OpenSSL, given it, would refuse every client for want of the root's.
      crlPath = await pki.writeCrls('leaf-only.pem', [pki.global, { revoked: [{ serialNumber: pki.certs.revoked.issued.certificate.serialNumber, reason: 'keyCompromise' }] }]);
      svc = await startWithOptions(pki.pemOptions('user-service', { crlPath, crlCheck: 'leaf' }), [HealthController], [], adapter);
    });
    afterAll(() => svc?.close());

    it('admits a good client and refuses the revoked one without an HTTP answer, logging serial, issuer and file', async () => {
      expect(secureContextOf(svc.app.get(MtlsMaterialSource).current()).crl).toBeUndefined();
      expect(await handshakeOutcome(svc.port, pki.clientTls('home-page-service'))).toBe(200);
      expect(await handshakeOutcome(svc.port, { ...pki.clientTls('revoked'), localAddress: '127.0.0.61' })).toBe('refused');
      await waitForLine(svc.logs.lines, / 127\.0\.0\.61:/);
      const lines = svc.logs.lines.filter((l) => l.includes(' 127.0.0.61:'));
      expect(lines).toHaveLength(1);
      const serial = pki.certs.revoked.issued.certificate.serialNumber;
      expect(lines[0]).toMatch(
        new RegExp(`^WARN connection from 127\\.0\\.0\\.61:\\d+ refused: revoked \\(serial ${serial}, issuer CN=Test Global CA,O=nest-mtls test, revoked at [0-9T:.Z-]+ \\(keyCompromise\\), by crl ${crlPath}\\); presented subject CN=home-page-service,O=nest-mtls$`),
      );
    });
  });

  describe('a CRL file replaced by rename under a running service (crlCheck chain, closed: OpenSSL checks full handshakes)', () => {
    let svc: RunningApp;
    let source: MtlsMaterialSource;
    let crlPath: string;
    const client = () => pki.clientTls('home-page-service');

    beforeAll(async () => {
      await pki.issue('keep-alive-caller', { subject: 'CN=keep-alive-caller,O=nest-mtls' });
      crlPath = await pki.writeCrls('live.pem', [pki.root], [pki.global]);
      svc = await startWithOptions(pki.pemOptions('user-service', { crlPath }), [HealthController], [], adapter);
      source = svc.app.get(MtlsMaterialSource);
    });
    afterAll(() => svc?.close());

    it('closes the open keep-alive connection of a newly revoked caller within 10 s and refuses its new handshakes; its old session no longer resumes', async () => {
      const caller = pki.clientTls('keep-alive-caller');
      expect(secureContextOf(source.current()).crl).toHaveLength(2); // the strict mode: OpenSSL checks full handshakes
      const session = await sessionOf(svc.port, caller);
      // Control: before the revocation, the resumed session is served.
      expect(await resumed(svc.port, caller, session)).toEqual({ reused: true, answer: expect.objectContaining({ status: 200 }) });
      const open = await tlsOpen(svc.port, caller);
      expect(await requestOnSocket(open, '/health')).toMatchObject({ status: 200 });
      const bystander = await tlsOpen(svc.port, client());
      expect(await requestOnSocket(bystander, '/health')).toMatchObject({ status: 200 });

      const reloaded = firstValueFrom(source.reloads.pipe(filter((r: MtlsReloadResult) => r.result === 'success')));
      const revokedSerial = pki.certs['keep-alive-caller'].issued.certificate.serialNumber;
      replaceFile(crlPath, (await pki.writeCrls('live-next.pem', [pki.root], [pki.global, { revoked: [{ serialNumber: revokedSerial }] }])) && pki.read('live-next.pem'));
      expect(await closedWithin(open, 10_000)).toBeLessThan(10_000);
      await reloaded;
      const cut = svc.logs.lines.filter((l) => l.includes('open connection from') && l.includes('closed: revoked'));
      expect(cut).toHaveLength(1);
      expect(cut[0]).toContain(`serial ${revokedSerial}`);

      // The bystander's connection is untouched, new handshakes of the revoked caller are refused (by OpenSSL, CERT_REVOKED)...
      expect(await requestOnSocket(bystander, '/health')).toMatchObject({ status: 200 });
      bystander.destroy();
      expect(await handshakeOutcome(svc.port, caller)).toBe('refused');
      expect(await handshakeOutcome(svc.port, client())).toBe(200);
      // The new material came with new session ticket keys (Node's setSecureContext): the saved session cannot resume, and the full handshake is refused.
      expect(await resumed(svc.port, caller, session)).toEqual({ reused: false, answer: 'closed' });
    });
  });

  describe('a CRL that passes its nextUpdate: resumed sessions too (crlCheck chain, closed)', () => {
    let svc: RunningApp;
    let nextUpdate: Date;

    beforeAll(async () => {
      nextUpdate = new Date(Date.now() + 3000);
      const crlPath = await pki.writeCrls('short-chain.pem', [pki.root], [pki.global, { nextUpdate }]);
      svc = await startWithOptions(pki.pemOptions('user-service', { crlPath }), [HealthController], [], adapter);
    });
    afterAll(() => svc?.close());

    it('OpenSSL refuses full handshakes (CRL_HAS_EXPIRED), and the gate refuses the resumed session OpenSSL lets through', async () => {
      const caller = pki.clientTls('home-page-service');
      const session = await sessionOf(svc.port, caller);
      expect(await resumed(svc.port, caller, session)).toEqual({ reused: true, answer: expect.objectContaining({ status: 200 }) });
      await sleep(Math.max(0, nextUpdate.getTime() - Date.now()) + 500);
      const before = svc.logs.lines.length;
      expect(await resumed(svc.port, caller, session)).toEqual({ reused: true, answer: 'closed' });
      expect(await handshakeOutcome(svc.port, caller)).toBe('refused');
      await waitFor(() => svc.logs.lines.slice(before).filter((l) => l.includes('refused:')).length >= 2, 'two refusal lines');
      const lines = svc.logs.lines.slice(before).filter((l) => l.includes('refused:'));
      expect(lines).toEqual([
        expect.stringMatching(/^WARN connection from 127\.0\.0\.1:\d+ refused: crl_expired \(the CRL of CA CN=Test Global CA in .*short-chain\.pem \(CRL 2 of 2\) is out of date since /),
        expect.stringMatching(/^WARN TLS handshake from 127\.0\.0\.1:\d+ refused: crl_expired \(CRL_HAS_EXPIRED\)/),
      ]);
    });
  });

  describe('a CRL too large to hand to OpenSSL (crlCheck chain, closed): the gate applies it with the same policy', () => {
    let svc: RunningApp;

    beforeAll(async () => {
      const caCert = pki.write('global-ca.crt', pki.global.certPem);
      const caKey = pki.write('global-ca.key', pki.global.keyPem);
      const many: IndexEntry[] = Array.from({ length: 3000 }, () => ({ serialNumber: randomSerialNumber(), revokedAt: new Date(Date.now() - HOUR) }));
      many.push({ serialNumber: pki.certs.revoked.issued.certificate.serialNumber, revokedAt: new Date(Date.now() - HOUR) });
      const globalCrl = opensslCrl(pki, 'large', caCert, caKey, many);
      const crlPath = pki.write('large-chain.pem', (await createCrl(pki.root)) + readFileSync(globalCrl, 'utf8'));
      svc = await startWithOptions(pki.pemOptions('user-service', { crlPath }), [HealthController], [], adapter);
    });
    afterAll(() => svc?.close());

    it('admits a good client, refuses the revoked one after the handshake, and a client whose intermediate has no CRL', async () => {
      expect(secureContextOf(svc.app.get(MtlsMaterialSource).current()).crl).toBeUndefined();
      expect(await handshakeOutcome(svc.port, pki.clientTls('home-page-service'))).toBe(200);
      expect(await handshakeOutcome(svc.port, { ...pki.clientTls('revoked'), localAddress: '127.0.0.63' })).toBe('refused');
      const team = await createIntermediateCa(pki.root, { subject: 'CN=Team CA without CRL,O=nest-mtls test' });
      const teamClient = await issueCertificate(team, { subject: 'CN=team-client' });
      expect(await handshakeOutcome(svc.port, { key: teamClient.keyPem, cert: teamClient.chainPem, ca: pki.root.certPem, localAddress: '127.0.0.64' })).toBe('refused');
      await waitForLine(svc.logs.lines, / 127\.0\.0\.63:/);
      await waitForLine(svc.logs.lines, / 127\.0\.0\.64:/);
      expect(svc.logs.lines.find((l) => l.includes(' 127.0.0.63:'))).toMatch(/^WARN connection from 127\.0\.0\.63:\d+ refused: revoked \(serial [0-9A-F]+, issuer CN=Test Global CA,O=nest-mtls test, revoked at .*, by crl .*large-chain\.pem \(CRL 2 of 2\)\)/);
      expect(svc.logs.lines.find((l) => l.includes(' 127.0.0.64:'))).toMatch(/refused: revocation_unknown \(no revocation information for CN=team-client \(serial [0-9A-F]+\): no CRL of CA CN=Team CA without CRL in crlPath\)/);
    });
  });

  describe('revocationFailure open: an out-of-date CRL is a warning and is not applied', () => {
    let svc: RunningApp;

    beforeAll(async () => {
      svc = await startWithOptions(pki.pemOptions('user-service', { crlPath: pki.crlExpired, revocationFailure: 'open' }), [HealthController], [], adapter);
    });
    afterAll(() => svc?.close());

    it('starts, warns, and admits (with a warning) even the client its stale CRL lists', async () => {
      expect(svc.logs.lines.some((l) => /^WARN crlPath: the CRL of CA CN=Test Global CA in .*crl-expired\.pem \(CRL 2 of 2\) expired on .*; it is not applied/.test(l))).toBe(true);
      expect(secureContextOf(svc.app.get(MtlsMaterialSource).current()).crl).toBeUndefined();
      expect(await handshakeOutcome(svc.port, { ...pki.clientTls('revoked'), localAddress: '127.0.0.62' })).toBe(200);
      await waitForLine(svc.logs.lines, / 127\.0\.0\.62:/);
      const lines = svc.logs.lines.filter((l) => l.includes(' 127.0.0.62:'));
      expect(lines).toEqual([expect.stringMatching(/^WARN connection from 127\.0\.0\.62:\d+ admitted without a revocation answer \(revocationFailure open\): crl_expired \(the CRL of CA CN=Test Global CA in .* is out of date since /)]);
    });
  });

  describe('revocationFailure closed, crlCheck leaf: a CRL that passes its nextUpdate while the service runs', () => {
    let svc: RunningApp;
    let nextUpdate: Date;

    beforeAll(async () => {
      nextUpdate = new Date(Date.now() + 3000);
      const crlPath = await pki.writeCrls('short-leaf.pem', [pki.global, { nextUpdate }]);
      svc = await startWithOptions(pki.pemOptions('user-service', { crlPath, crlCheck: 'leaf' }), [HealthController], [], adapter);
    });
    afterAll(() => svc?.close());

    it('serves before, then the gate refuses with reason crl_expired (OpenSSL never had the CRL)', async () => {
      expect(svc.logs.lines.some((l) => /goes out of date at .*: publish a new one before then, or its clients are refused \(crl_expired\)/.test(l))).toBe(true);
      expect(await handshakeOutcome(svc.port, pki.clientTls('home-page-service'))).toBe(200);
      await sleep(Math.max(0, nextUpdate.getTime() - Date.now()) + 500);
      const before = svc.logs.lines.length;
      expect(await handshakeOutcome(svc.port, pki.clientTls('home-page-service'))).toBe('refused');
      await waitForLine(svc.logs.lines, /refused:/, 10_000, before);
      const lines = svc.logs.lines.slice(before);
      expect(lines.find((l) => l.includes('refused:'))).toMatch(/^WARN connection from 127\.0\.0\.1:\d+ refused: crl_expired \(the CRL of CA CN=Test Global CA in .*short-leaf\.pem is out of date since .*\); presented subject CN=home-page-service,O=nest-mtls; hint: a CRL is missing/);
      expect(svc.logs.lines.some((l) => /^ERROR the CRL of CA CN=Test Global CA in .* is out of date since .*: clients it speaks about are refused \(crl_expired\)/.test(l))).toBe(true);
    });
  });
});
