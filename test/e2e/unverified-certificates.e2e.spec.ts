import { Controller, Get } from '@nestjs/common';
import { RequireClientCert } from 'nest-mtls';
import * as identityModule from 'nest-mtls/identity/identity-from-certificate';
import { cachedIdentityCount } from 'nest-mtls/identity/peer-identity';
import { eachAdapter, startWithOptions, type RunningApp } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';
import { httpsGet } from '../support/tls-probe';

@Controller('users')
@RequireClientCert(/^CN=home-page-service(,|$)/)
class GuardedController {
  @Get('1')
  user() {
    return { id: 1 };
  }
}

/**
 * With validatePeers: false (or in want mode), anyone can present any
 * certificate. Refusing an unverified one must cost what a small one costs:
 * nothing of it is parsed into an identity and nothing is cached for it
 * (an attacker mints them without end); the log gets OpenSSL's rendering of
 * its subject, cut short.
 */
describe.each(
  eachAdapter<[string, object]>([
    ['validatePeers: false', { validatePeers: false }],
    ['want mode with validatePeers: false', { needClientAuth: false, validatePeers: false }],
  ]),
)('%s: unverified certificates, %s', (adapter, _mode, extra) => {
  let pki: TestPki;
  let svc: RunningApp;
  const heavy: Array<{ key: string; cert: string }> = [];

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startWithOptions({ keyStorePath: pki.certs['user-service'].p12, keyStorePassword: PASSWORD, trustStorePath: pki.trustStore, ...extra }, [GuardedController], [], adapter);
    // Self-signed, ~30 KB, ~9,700 one-letter DNS SANs, a long subject: the attacker's cheapest expensive certificate.
    for (let i = 0; i < 3; i++) {
      const { issued } = await pki.selfSigned(`heavy${i}`, { subject: `CN=home-page-service-${i}${'x'.repeat(40)},O=${'attacker'.repeat(8)}`, dns: Array(9_700).fill('x') });
      heavy.push({ key: issued.keyPem, cert: issued.certPem });
    }
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
    jest.restoreAllMocks();
  });

  it('refuses each with 403 "No certificate chain found!" without building an identity or caching anything', async () => {
    expect(heavy[0].cert.length).toBeGreaterThan(30_000);
    const build = jest.spyOn(identityModule, 'identityFromCertificate');
    const cachedBefore = cachedIdentityCount();
    for (const cert of heavy) {
      const res = await httpsGet(svc.port, '/users/1', { ...cert, ca: pki.root.certPem });
      expect(res.status).toBe(403);
      expect(res.json).toEqual({ statusCode: 403, message: 'No certificate chain found!' });
    }
    expect(build).not.toHaveBeenCalled();
    expect(cachedIdentityCount()).toBe(cachedBefore);
    build.mockRestore();
  });

  it('logs the presented subject as OpenSSL renders it, without parsing the certificate', async () => {
    const line = svc.logs.lines.find((l) => l.includes('403 GET /users/1') && l.includes('certificate not verified'));
    expect(line).toMatch(/certificate not verified \(DEPTH_ZERO_SELF_SIGNED_CERT\), presented subject CN=home-page-service-\d+x+,O=(attacker)+/);
  });

  it('control: a verified caller still gets in (its identity is built once)', async () => {
    const build = jest.spyOn(identityModule, 'identityFromCertificate');
    expect((await httpsGet(svc.port, '/users/1', pki.clientTls('home-page-service'))).status).toBe(200);
    expect((await httpsGet(svc.port, '/users/1', pki.clientTls('home-page-service'))).status).toBe(200);
    expect(build.mock.calls.length).toBeLessThanOrEqual(1);
    build.mockRestore();
  });
});
