import type { MtlsOptions } from 'nest-mtls';
import { HealthController } from '../../apps/user-service/src/health.controller';
import { startWithOptions, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { handshakeOutcome } from '../support/tls-probe';

/** Nothing listens here: a URL that names a place to ask, never asked in these tests. */
const NOWHERE = 'http://127.0.0.1:9/';

/**
 * enableCRLDP or ocsp on, while neither our own chain nor the trust store
 * names a CRL distribution point or an OCSP responder and no crlPath (or
 * ocspResponderUrl) is set: the service starts, and callers whose
 * certificates name none get no revocation answer. Startup says so, once, and
 * says what happens to them under the failure policy in force; the callers
 * are then treated as it says.
 */
describe('startup says what revocation will do to callers whose certificates name no CRL or OCSP responder', () => {
  let pki: TestPki;
  const apps: RunningApp[] = [];
  const start = async (extra: Partial<MtlsOptions>, name = 'user-service') => {
    const app = await startWithOptions(pki.pemOptions(name, extra), [HealthController]);
    apps.push(app);
    return app;
  };
  const coverageWarnings = (app: RunningApp) => app.logs.lines.filter((l) => l.includes('gets no revocation answer'));

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('user-service-with-dp', { subject: 'CN=user-service,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1'], crlDistributionPoints: [`${NOWHERE}global.crl`] });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    pki?.cleanup();
  });

  it('enableCRLDP, revocationFailure closed: one warning that such callers are refused, and they are', async () => {
    const app = await start({ enableCRLDP: true });
    expect(coverageWarnings(app)).toEqual([
      'WARN enableCRLDP is on, but no certificate of our own chain or of the trust store names an http CRL distribution point, and crlPath is not set: a caller whose certificate names none gets no revocation answer and is refused (revocation_unknown, revocationFailure closed)',
    ]);
    expect(await handshakeOutcome(app.port, pki.clientTls('home-page-service'))).toBe('refused');
    expect(coverageWarnings(app)).toHaveLength(1); // said at startup, not per connection
  });

  it('ocsp, revocationFailure open: one warning that such callers are admitted with a warning, and they are', async () => {
    const app = await start({ ocsp: true, revocationFailure: 'open' });
    expect(coverageWarnings(app)).toEqual([
      'WARN ocsp is on, but no certificate of our own chain or of the trust store names an OCSP responder, and neither crlPath nor ocspResponderUrl is set: a caller whose certificate names none gets no revocation answer and is admitted with a warning (revocationFailure open)',
    ]);
    expect(await handshakeOutcome(app.port, pki.clientTls('home-page-service'))).toBe(200);
  });

  it('both on: one warning naming both', async () => {
    const app = await start({ enableCRLDP: true, ocsp: true });
    expect(coverageWarnings(app)).toHaveLength(1);
    expect(coverageWarnings(app)[0]).toMatch(/^WARN enableCRLDP and ocsp are on, but .* names an http CRL distribution point or an OCSP responder, and neither crlPath nor ocspResponderUrl is set: .* is refused/);
  });

  it.each([
    ['enableCRLDP with crlPath', { enableCRLDP: true, crlPath: 'CRL_ALL' }, 'user-service'],
    ['ocsp with ocspResponderUrl', { ocsp: true, ocspResponderUrl: NOWHERE }, 'user-service'],
    ['enableCRLDP when our own certificate names a distribution point', { enableCRLDP: true }, 'user-service-with-dp'],
  ] as const)('no such warning for %s', async (_what, extra, name) => {
    const app = await start({ ...extra, ...('crlPath' in extra ? { crlPath: pki.crlAll } : {}) }, name);
    expect(app.logs.lines.some((l) => l.startsWith('LOG') || l.startsWith('WARN'))).toBe(true); // it logged, just not this
    expect(coverageWarnings(app)).toEqual([]);
  });
});
