import { MtlsEvents, type GuardDecision, type TlsRefusal } from 'nest-mtls';
import { UsersController } from '../../apps/user-service/src/users.controller';
import { UsersService } from '../../apps/user-service/src/users.service';
import { HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { handshakeOutcome, httpsGet } from '../support/tls-probe';
import { waitFor } from '../support/wait-for';

/** The event streams metrics and audit tools read: refused handshakes, guard decisions (by route, not URL), verified callers. */
describe.each(HTTP_ADAPTERS)('MtlsEvents (%s)', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;
  const refusals: TlsRefusal[] = [];
  const decisions: GuardDecision[] = [];
  const callers: string[] = [];

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startWithOptions(pki.pemOptions('user-service'), [UsersController], [UsersService], adapter);
    const events = svc.app.get(MtlsEvents);
    events.refusals.subscribe((r) => refusals.push(r));
    events.guardDecisions.subscribe((d) => decisions.push(d));
    events.verifiedCallers.subscribe((c) => callers.push(c.subject));
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('tells every refused handshake, with its reason code', async () => {
    expect(await handshakeOutcome(svc.port, pki.clientTls(), '/users/1')).toBe('refused');
    expect(await handshakeOutcome(svc.port, pki.clientTls('expired'), '/users/1')).toBe('refused');
    await waitFor(() => refusals.length >= 2, 'two handshakeRefused events');
    expect(refusals.map((r) => r.reason)).toEqual(['no_certificate', 'expired']);
    expect(refusals[0].peer).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('tells each guard decision by route (never the raw URL), and each verified caller', async () => {
    expect((await httpsGet(svc.port, '/users/1', pki.clientTls('home-page-service'))).status).toBe(200);
    expect((await httpsGet(svc.port, '/users/2', pki.clientTls('event-service'))).status).toBe(403);
    expect(decisions.map(({ route, outcome, subject }) => ({ route, outcome, subject }))).toEqual([
      { route: '/users/:id', outcome: 'allowed', subject: 'CN=home-page-service,O=nest-mtls' },
      { route: '/users/:id', outcome: 'refused', subject: 'CN=event-service,O=nest-mtls' },
    ]);
    expect(callers).toEqual(['CN=home-page-service,O=nest-mtls', 'CN=event-service,O=nest-mtls']);
  });
});
