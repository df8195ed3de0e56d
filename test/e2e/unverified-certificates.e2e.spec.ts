import { Controller, Get } from '@nestjs/common';
import { RequireClientCert } from 'nest-mtls';
import { identityFromCertificateModule as identityModule } from 'nest-mtls/internal';
import { cachedIdentityCount } from 'nest-mtls/internal';
import { eachAdapter, startWithOptions, type RunningApp } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';
import { handshakeOutcome, httpsGet } from '../support/tls-probe';
import { waitFor } from '../support/wait-for';

@Controller('users')
@RequireClientCert(/^CN=home-page-service(,|$)/)
class GuardedController {
  @Get('1')
  user() {
    return { id: 1 };
  }
}

/**
 * In want mode anyone can present any certificate and finish the handshake
 * (need mode refuses it inside the handshake); validatePeers: false changes
 * neither (it only turns revocation checking off). Refusing an unverified
 * one must cost what a small one costs: no HTTP answer, nothing of it parsed
 * into an identity and nothing cached for it (an attacker mints them without
 * end); where the handshake completed, the log gets OpenSSL's rendering of
 * its subject, cut short.
 */
// Self-signed, ~30 KB, ~9,700 one-letter DNS SANs, a long subject: the attacker's cheapest expensive certificate.
// Made once for the file (each takes a while to sign) and presented in every mode below.
const heavy: Array<{ key: string; cert: string }> = [];
let heavyPki: TestPki;
beforeAll(async () => {
  heavyPki = await TestPki.create();
  for (let i = 0; i < 3; i++) {
    const { issued } = await heavyPki.selfSigned(`heavy${i}`, { subject: `CN=home-page-service-${i}${'x'.repeat(40)},O=${'attacker'.repeat(8)}`, dns: Array(9_700).fill('x') });
    heavy.push({ key: issued.keyPem, cert: issued.certPem });
  }
});
afterAll(() => heavyPki?.cleanup());

describe.each(
  eachAdapter<[string, object, boolean]>([
    ['need mode', {}, false],
    ['want mode', { needClientAuth: false }, true],
    ['want mode with validatePeers: false', { needClientAuth: false, validatePeers: false }, true],
  ]),
)('%s: unverified certificates, %s', (adapter, _mode, extra, subjectLogged) => {
  let pki: TestPki;
  let svc: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startWithOptions({ keyStorePath: pki.certs['user-service'].p12, keyStorePassword: PASSWORD, trustStorePath: pki.trustStore, ...extra }, [GuardedController], [], adapter);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
    jest.restoreAllMocks();
  });

  it('refuses each without an HTTP answer, without building an identity or caching anything', async () => {
    expect(heavy[0].cert.length).toBeGreaterThan(30_000);
    const build = jest.spyOn(identityModule, 'identityFromCertificate');
    const cachedBefore = cachedIdentityCount();
    for (const cert of heavy) {
      expect(await handshakeOutcome(svc.port, { ...cert, ca: pki.root.certPem }, '/users/1')).toBe('refused');
    }
    expect(build).not.toHaveBeenCalled();
    expect(cachedIdentityCount()).toBe(cachedBefore);
    build.mockRestore();
  });

  it(subjectLogged ? 'logs the presented subject as OpenSSL renders it, without parsing the certificate' : 'logs the refusal (OpenSSL refused it inside the handshake)', async () => {
    const find = () => svc.logs.lines.find((l) => /TLS handshake from 127\.0\.0\.1:\d+ refused: unknown_ca \(DEPTH_ZERO_SELF_SIGNED_CERT\)/.test(l));
    await waitFor(() => find() !== undefined, 'the refusal log line');
    const line = find();
    if (subjectLogged) expect(line).toMatch(/; presented subject CN=home-page-service-\d+x+,O=(attacker)+/);
    else expect(line).not.toContain('presented subject');
  });

  it('control: a verified caller still gets in (its identity is built once)', async () => {
    const build = jest.spyOn(identityModule, 'identityFromCertificate');
    expect((await httpsGet(svc.port, '/users/1', pki.clientTls('home-page-service'))).status).toBe(200);
    expect((await httpsGet(svc.port, '/users/1', pki.clientTls('home-page-service'))).status).toBe(200);
    expect(build.mock.calls.length).toBeLessThanOrEqual(1);
    build.mockRestore();
  });
});
