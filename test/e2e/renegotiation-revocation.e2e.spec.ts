import { UsersController } from '../../apps/user-service/src/users.controller';
import { UsersService } from '../../apps/user-service/src/users.service';
import { compiledClient } from '../support/c-client';
import type { IndexEntry } from '../support/openssl-ca';
import { OcspRelay } from '../support/ocsp-relay';
import { OcspResponder } from '../support/ocsp-responder';
import { requireTool } from '../support/require-tool';
import { HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { TestPki, type CertFiles } from '../support/test-pki';
import { handshakeOutcome, run } from '../support/tls-probe';
import { waitForLine } from '../support/wait-for';

requireTool('openssl', 'the renegotiation-with-OCSP tests (openssl ocsp is the responder)');
requireTool('gcc', 'the renegotiation-with-OCSP tests (the hostile client is C on OpenSSL)');

/**
 * Revocation across a TLS 1.2 renegotiation (allowRenegotiation: true,
 * Dropwizard's own default) with OCSP: a client connects with a good
 * certificate (CN=event-service, which may not read users), renegotiates to
 * a certificate the CA issued and then revoked (a stolen CN=home-page-service
 * key), and asks for a user at once. OCSP is asked about the new certificate
 * after the renegotiation; the answer is held back 0, 50 and 1000 ms by a
 * relay in front of the responder. Nothing may be served before the new
 * certificate is judged, and the refusal is logged.
 */
describe.each(HTTP_ADAPTERS)('%s: renegotiation to a certificate revoked per OCSP (allowRenegotiation: true, ocsp: true)', (adapter) => {
  let pki: TestPki;
  let responder: OcspResponder;
  let relay: OcspRelay;
  let svc: RunningApp;
  let client: string;
  let entries: IndexEntry[];
  const entry = (c: CertFiles, revokedAt?: Date): IndexEntry => ({ serialNumber: c.issued.certificate.serialNumber, revokedAt, reason: revokedAt ? 'keyCompromise' : undefined });

  beforeAll(async () => {
    pki = await TestPki.create();
    client = compiledClient('reneg-swap-client');
    const signer = await pki.issue('ocsp-signer', { subject: 'CN=OCSP responder,O=nest-mtls test', extendedKeyUsage: ['ocspSigning'] });
    entries = [entry(pki.certs['event-service']), entry(pki.certs['home-page-service'])];
    responder = await OcspResponder.start(pki, { caCert: pki.write('global-ca.crt', pki.global.certPem), signerCert: signer.cert, signerKey: signer.key }, entries);
    relay = await OcspRelay.start(responder.url);
    svc = await startWithOptions(
      pki.pemOptions('user-service', { allowRenegotiation: true, ocsp: true, ocspResponderUrl: relay.url, revocationRefreshMs: 60_000 }),
      [UsersController],
      [UsersService],
      adapter,
    );
    // event-service's own answer is in memory from now on: the tests below race the renegotiated certificate only.
    expect(await handshakeOutcome(svc.port, pki.clientTls('event-service'), '/users/1')).toBe(403);
  });

  afterAll(async () => {
    await svc?.close();
    await relay?.stop();
    await responder?.stop();
    pki?.cleanup();
  });

  /** `from` (event-service) handshakes, renegotiates presenting `to`, and asks for /users/1 at once (a real OpenSSL client). */
  async function swapAndRead(to: CertFiles, from = pki.certs['event-service']) {
    const a = from;
    const { stdout, stderr } = await run(client, ['127.0.0.1', String(svc.port), pki.trustStore, a.chain, a.key, to.chain, to.key, '/users/1'], { timeoutMs: 30_000 });
    if (!/handshake ok/.test(stdout)) throw new Error(`first handshake failed: ${stdout} ${stderr}`);
    const status = /^answer: HTTP\/1\.1 (\d{3})/m.exec(stdout);
    return { renegotiated: /renegotiation ok/.test(stdout), answer: status ? { status: Number(status[1]), body: /^body: (.*)$/m.exec(stdout)?.[1] } : /closed/.test(stdout) ? 'closed' : stdout };
  }

  /** A new certificate named CN=home-page-service (new to the server's OCSP cache), in the responder's database, revoked when `revoked`. */
  async function homePageCertificate(name: string, revoked: boolean): Promise<CertFiles> {
    const issued = await pki.issue(name, { subject: 'CN=home-page-service,O=nest-mtls' });
    entries = [...entries, entry(issued, revoked ? new Date(Date.now() - 60_000) : undefined)];
    await responder.update(entries);
    return issued;
  }

  it.each([0, 50, 1000])('responder answering after %i ms: no user is served, the connection ends, and the refusal is logged', async (delayMs) => {
    const stolen = await homePageCertificate(`stolen-${delayMs}`, true);
    relay.delayMs = delayMs;
    const before = svc.logs.lines.length;
    const { renegotiated, answer } = await swapAndRead(stolen);
    expect(renegotiated).toBe(true); // the handshake itself verifies: the CA issued it
    expect(answer).toBe('closed');
    const line = await waitForLine(svc.logs.lines, new RegExp(`refused: revoked \\(serial ${stolen.issued.certificate.serialNumber}, `), 10_000, before);
    expect(line).toMatch(/^WARN TLS renegotiation from 127\.0\.0\.1:\d+ refused: revoked \(serial [0-9A-F]+, issuer CN=Test Global CA,O=nest-mtls test, revoked at .* \(keyCompromise\), by ocsp http:\/\/127\.0\.0\.1:\d+\/\); presented subject CN=home-page-service,O=nest-mtls/);
  });

  it('renegotiating while the first certificate is still being judged (1000 ms): no user is served, and the refusal is logged', async () => {
    const first = await pki.issue(`event-service-new-${adapter}`, { subject: 'CN=event-service,O=nest-mtls' });
    entries = [...entries, entry(first)];
    const stolen = await homePageCertificate('stolen-early', true);
    relay.delayMs = 1000;
    const before = svc.logs.lines.length;
    const { renegotiated, answer } = await swapAndRead(stolen, first);
    expect(renegotiated).toBe(true);
    expect(answer).toBe('closed');
    await waitForLine(svc.logs.lines, new RegExp(`^WARN TLS renegotiation from 127\\.0\\.0\\.1:\\d+ refused: revoked \\(serial ${stolen.issued.certificate.serialNumber}, `), 10_000, before);
  });

  it('control: renegotiating to a good CN=home-page-service certificate new to the cache is served once judged (1000 ms)', async () => {
    const fresh = await homePageCertificate('fresh-home-page', false);
    relay.delayMs = 1000;
    const { answer } = await swapAndRead(fresh);
    expect(answer).toMatchObject({ status: 200, body: expect.stringContaining('"id":1') });
  });

  it('control: the same client renegotiating keeping its own certificate is judged by it (403 for event-service)', async () => {
    relay.delayMs = 0;
    const { renegotiated, answer } = await swapAndRead(pki.certs['event-service']);
    expect(renegotiated).toBe(true);
    expect(answer).toMatchObject({ status: 403 });
  });
});
