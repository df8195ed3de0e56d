import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { MtlsEvents, type MtlsOptions } from 'nest-mtls';
import { issueCertificate, type IssuedCertificate } from 'nest-mtls/testing';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicOCSPResponse, id_pkix_ocsp_nonce, OCSPResponse } from '@peculiar/asn1-ocsp';
import { HealthController } from '../../apps/user-service/src/health.controller';
import { craftOcspAnswer } from '../support/crafted-ocsp';
import type { IndexEntry } from '../support/openssl-ca';
import { OcspRelay } from '../support/ocsp-relay';
import { OcspResponder } from '../support/ocsp-responder';
import { requestOnSocket } from '../support/raw-http';
import { requireTool } from '../support/require-tool';
import { HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { opensslOk, TestPki } from '../support/test-pki';
import { closedWithin, handshakeOutcome, tlsOpen } from '../support/tls-probe';
import { waitForLine } from '../support/wait-for';

const describeOpenssl = requireTool('openssl', 'the OCSP tests (openssl ocsp is the responder)') ? describe : describe.skip;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The single answer of an OCSP response: its status, thisUpdate, nextUpdate, and whether it carries a nonce. */
function readAnswer(der: Buffer) {
  const basic = AsnConvert.parse(AsnConvert.parse(der, OCSPResponse).responseBytes!.response, BasicOCSPResponse);
  const single = basic.tbsResponseData.responses[0];
  return {
    status: single.certStatus.good !== undefined ? 'good' : single.certStatus.revoked ? 'revoked' : 'unknown',
    thisUpdate: single.thisUpdate,
    nextUpdate: single.nextUpdate,
    nonce: (basic.tbsResponseData.responseExtensions ?? []).some((e) => e.extnID === id_pkix_ocsp_nonce),
  };
}

/**
 * OCSP for client certificates, against `openssl ocsp` as the responder
 * (a delegated responder certificate with the OCSP-signing EKU, issued by
 * the global CA), with certificates that name it in their Authority
 * Information Access; on Express and Fastify.
 */
describeOpenssl.each(HTTP_ADAPTERS)('%s: OCSP for client certificates', (adapter) => {
  let pki: TestPki;
  let responder: OcspResponder;
  let entries: IndexEntry[];
  const certs: Record<string, IssuedCertificate> = {};
  const apps: RunningApp[] = [];
  const tlsOf = (name: string): ConnectionOptions => ({ key: certs[name].keyPem, cert: certs[name].chainPem, ca: pki.root.certPem });
  const entry = (name: string, revokedAt?: Date): IndexEntry => ({ serialNumber: certs[name].certificate.serialNumber, subject: `/CN=${name}`, revokedAt, reason: revokedAt ? 'keyCompromise' : undefined });
  const start = async (extra: Partial<MtlsOptions> = {}) => {
    // The certificates name the responder, a host the test CAs do not name themselves: allowed by revocationAllowedHosts.
    const app = await startWithOptions(
      pki.pemOptions('user-service', { ocsp: true, revocationRefreshMs: 1000, revocationAllowedHosts: [`127.0.0.1:${responder.port}`], ...extra }),
      [HealthController],
      [],
      adapter,
    );
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
    expect(await handshakeOutcome(svc.port, { ...tlsOf('ocsp-revoked'), localAddress: '127.0.0.81' })).toBe('refused');
    expect(await handshakeOutcome(svc.port, { ...tlsOf('ocsp-unlisted'), localAddress: '127.0.0.82' })).toBe('refused');
    await waitForLine(svc.logs.lines, / 127\.0\.0\.81:/);
    await waitForLine(svc.logs.lines, / 127\.0\.0\.82:/);
    expect(svc.logs.lines.find((l) => l.includes(' 127.0.0.81:'))).toMatch(
      new RegExp(`refused: revoked \\(serial ${certs['ocsp-revoked'].certificate.serialNumber}, issuer CN=Test Global CA,O=nest-mtls test, revoked at .* \\(keyCompromise\\), by ocsp ${responder.url.replace(/\./g, '\\.')}\\); presented subject CN=ocsp-revoked,O=nest-mtls$`),
    );
    expect(svc.logs.lines.find((l) => l.includes(' 127.0.0.82:'))).toMatch(/refused: revocation_unknown \(OCSP http:\/\/127\.0\.0\.1:\d+\/: .* does not know the certificate \(status unknown\)\)/);
    await close(svc);
  });

  it('keep-alive requests never query: answers are per connection and cached per certificate (the responder can even be down)', async () => {
    const svc = await start({ revocationRefreshMs: 60_000 });
    const checks: { source: string; cached: boolean }[] = [];
    const subscription = svc.app.get(MtlsEvents).revocationChecks.subscribe((c) => checks.push(c));
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
      await waitForLine(closed.logs.lines, /refused:/);
      expect(closed.logs.lines.find((l) => l.includes('refused:'))).toMatch(/refused: revocation_unknown \(OCSP http:\/\/127\.0\.0\.1:\d+\/: ECONNREFUSED\); presented subject CN=ocsp-good,O=nest-mtls; hint: /);
      await close(closed);
      const open = await start({ revocationFailure: 'open' });
      expect(await handshakeOutcome(open.port, tlsOf('ocsp-good'))).toBe(200);
      await waitForLine(open.logs.lines, /admitted without a revocation answer/);
      expect(open.logs.lines.find((l) => l.includes('admitted without a revocation answer'))).toMatch(/revocation_unknown \(OCSP http:\/\/127\.0\.0\.1:\d+\/: ECONNREFUSED\); subject CN=ocsp-good,O=nest-mtls$/);
      await close(open);
    } finally {
      await responder.restart();
    }
  });

  it('a certificate without a responder needs ocspResponderUrl; answers signed by the CA itself are taken too', async () => {
    const without = await start();
    expect(await handshakeOutcome(without.port, tlsOf('no-aia'))).toBe('refused');
    await waitForLine(without.logs.lines, /refused:/);
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
      await waitForLine(svc.logs.lines, /refused:/);
      expect(svc.logs.lines.find((l) => l.includes('refused:'))).toMatch(/revocation_unknown \(OCSP http:\/\/127\.0\.0\.1:\d+\/: the response is signed by CN=not a responder, which lacks the OCSP-signing extended key usage\)/);
      await close(svc);
    } finally {
      await rogue.stop();
    }
  });

  /**
   * Replays: a network attacker between the service and the responder
   * (OcspRelay) serves an answer recorded earlier, or one the CA signed long
   * ago. Our nonce is required by default; without it (ocspNonce: false) an
   * answer may be at most ocspMaxAgeMs old.
   */
  describe('replayed and old answers', () => {
    let relay: OcspRelay;
    let n = 0;
    /** A new client certificate the responder knows as good (each test its own: answers are cached per certificate). */
    const newClient = async (prefix: string) => {
      const name = `${prefix}-${++n}`;
      certs[name] = await issueCertificate(pki.global, { subject: `CN=${name},O=nest-mtls`, ocspUrls: [responder.url] });
      entries = [...entries, entry(name)];
      await responder.update(entries);
      return name;
    };
    const revoke = async (name: string) => {
      entries = entries.map((e) => (e.serialNumber === certs[name].certificate.serialNumber ? { ...e, revokedAt: new Date(), reason: 'keyCompromise' } : e));
      await responder.update(entries);
    };
    /** What an attacker records before the revocation: `openssl ocsp -no_nonce` asking the real responder (the bytes of its answer). */
    const capture = (name: string): Buffer => {
      const out = pki.path(`${name}.ocsp.der`);
      opensslOk(['ocsp', '-issuer', pki.path('global-ca.crt'), '-cert', pki.write(`${name}.crt`, certs[name].certPem), '-url', responder.url, '-no_nonce', '-noverify', '-respout', out]);
      return readFileSync(out);
    };
    const crafted = (name: string, thisUpdate: Date, nextUpdate?: Date) => craftOcspAnswer({ cert: certs[name].certificate, signer: pki.global, thisUpdate, nextUpdate });
    const refusedLine = (svc: RunningApp, address: string, detail: RegExp) =>
      waitForLine(svc.logs.lines, new RegExp(`^WARN connection from ${address.replace(/\./g, '\\.')}:\\d+ refused: revocation_unknown \\(OCSP ${relay.url.replace(/\./g, '\\.')}: ${detail.source}`));
    const from = (name: string, address: string) => ({ ...tlsOf(name), localAddress: address }) as ConnectionOptions;

    beforeAll(async () => {
      relay = await OcspRelay.start(responder.url);
    });
    afterAll(async () => {
      await relay?.stop();
    });
    beforeEach(() => {
      relay.replay = undefined;
    });

    it('a "good" answer recorded before the revocation (no nonce, no nextUpdate) and replayed after it is refused: our nonce is not echoed', async () => {
      const name = await newClient('ocsp-replayed');
      const recorded = capture(name);
      expect(readAnswer(recorded)).toMatchObject({ status: 'good', nonce: false, nextUpdate: undefined }); // what the attacker holds
      await revoke(name);
      relay.replay = recorded;
      const svc = await start({ ocspResponderUrl: relay.url });
      expect(await handshakeOutcome(svc.port, from(name, '127.0.0.84'))).toBe('refused');
      expect(await refusedLine(svc, '127.0.0.84', /the answer does not echo our nonce, so it may be a replayed one/)).toMatch(
        /\(a responder that cannot echo nonces needs ocspNonce: false, and answers at most ocspMaxAgeMs old\)\); presented subject CN=ocsp-replayed-\d+,O=nest-mtls/,
      );
      expect(relay.requests).toBeGreaterThan(0);
      expect(readAnswer(capture(name)).status).toBe('revoked'); // control: what the responder says now
      await close(svc);
    });

    it('a CA-signed "good" answer a year old is refused, with the nonce required and without it', async () => {
      const name = await newClient('ocsp-year-old');
      relay.replay = crafted(name, new Date(Date.now() - 365 * DAY));
      const withNonce = await start({ ocspResponderUrl: relay.url });
      expect(await handshakeOutcome(withNonce.port, from(name, '127.0.0.86'))).toBe('refused');
      await refusedLine(withNonce, '127.0.0.86', /the answer does not echo our nonce/);
      await close(withNonce);
      const withoutNonce = await start({ ocspResponderUrl: relay.url, ocspNonce: false });
      expect(await handshakeOutcome(withoutNonce.port, from(name, '127.0.0.87'))).toBe('refused');
      await refusedLine(withoutNonce, '127.0.0.87', /the answer is 315360\d\d s old \(thisUpdate .*\), older than ocspMaxAgeMs \(300000 ms\) allows: a replayed answer\?/);
      // A nextUpdate still ahead does not make it fresh.
      const later = await newClient('ocsp-year-old');
      relay.replay = crafted(later, new Date(Date.now() - 365 * DAY), new Date(Date.now() + DAY));
      expect(await handshakeOutcome(withoutNonce.port, from(later, '127.0.0.88'))).toBe('refused');
      await refusedLine(withoutNonce, '127.0.0.88', /the answer is \d+ s old/);
      await close(withoutNonce);
    });

    it('ocspNonce false: a fresh answer without a nonce is admitted; one older than ocspMaxAgeMs, or more than a minute ahead, is refused', async () => {
      const svc = await start({ ocspResponderUrl: relay.url, ocspNonce: false });
      const fresh = await newClient('ocsp-fresh');
      relay.replay = crafted(fresh, new Date(Date.now() - 10_000));
      expect(await handshakeOutcome(svc.port, tlsOf(fresh))).toBe(200);
      const stale = await newClient('ocsp-stale');
      relay.replay = crafted(stale, new Date(Date.now() - 6 * MINUTE));
      expect(await handshakeOutcome(svc.port, from(stale, '127.0.0.89'))).toBe('refused');
      await refusedLine(svc, '127.0.0.89', /the answer is 36\d s old \(thisUpdate .*\), older than ocspMaxAgeMs \(300000 ms\) allows/);
      const ahead = await newClient('ocsp-ahead');
      relay.replay = crafted(ahead, new Date(Date.now() + 2 * MINUTE));
      expect(await handshakeOutcome(svc.port, from(ahead, '127.0.0.90'))).toBe('refused');
      await refusedLine(svc, '127.0.0.90', /the answer is from the future/);
      // The real responder, asked without a nonce (none is sent), answers without one: admitted.
      relay.replay = undefined;
      const real = await newClient('ocsp-no-nonce');
      expect(await handshakeOutcome(svc.port, tlsOf(real))).toBe(200);
      expect(readAnswer(relay.answers[relay.answers.length - 1])).toMatchObject({ status: 'good', nonce: false });
      await close(svc);
    });

    it('an answer without nextUpdate is used at most ocspMaxAgeMs; then the responder is asked again, and a replay of it is refused', async () => {
      const svc = await start({ ocspResponderUrl: relay.url, ocspNonce: false, ocspMaxAgeMs: 3000, revocationRefreshMs: 60_000 });
      const name = await newClient('ocsp-aging');
      const asked = relay.requests;
      expect(await handshakeOutcome(svc.port, tlsOf(name))).toBe(200);
      expect(await handshakeOutcome(svc.port, tlsOf(name))).toBe(200); // from memory
      expect(relay.requests).toBe(asked + 1);
      const recorded = relay.answers[relay.answers.length - 1];
      const { thisUpdate, nextUpdate } = readAnswer(recorded);
      expect(nextUpdate).toBeUndefined();
      await revoke(name);
      relay.replay = recorded; // the attacker serves the answer it saw go by
      await sleep(Math.max(0, thisUpdate.getTime() + 3000 - Date.now()) + 100);
      expect(await handshakeOutcome(svc.port, from(name, '127.0.0.91'))).toBe('refused');
      expect(relay.requests).toBe(asked + 2);
      await refusedLine(svc, '127.0.0.91', /the answer is \d s old \(thisUpdate .*\), older than ocspMaxAgeMs \(3000 ms\) allows/);
      await close(svc);
    });

    it('with the nonce (default) an answer without nextUpdate is not used longer than ocspMaxAgeMs either', async () => {
      const svc = await start({ ocspResponderUrl: relay.url, ocspMaxAgeMs: 3000, revocationRefreshMs: 60_000 });
      const name = await newClient('ocsp-aging-nonce');
      const asked = relay.requests;
      const fetched = Date.now();
      expect(await handshakeOutcome(svc.port, tlsOf(name))).toBe(200);
      expect(await handshakeOutcome(svc.port, tlsOf(name))).toBe(200); // from memory
      expect(relay.requests).toBe(asked + 1);
      expect(readAnswer(relay.answers[relay.answers.length - 1])).toMatchObject({ nonce: true, nextUpdate: undefined });
      await revoke(name);
      await sleep(Math.max(0, fetched + 3000 - Date.now()) + 100);
      expect(await handshakeOutcome(svc.port, from(name, '127.0.0.92'))).toBe('refused');
      expect(relay.requests).toBe(asked + 2);
      await waitForLine(svc.logs.lines, /^WARN connection from 127\.0\.0\.92:\d+ refused: revoked \(/);
      await close(svc);
    });
  });
});
