import { issueCertificate } from 'nest-mtls/testing';
import { writeFileSync } from 'node:fs';
import { UsersController } from '../../apps/user-service/src/users.controller';
import { UsersService } from '../../apps/user-service/src/users.service';
import { HTTP_ADAPTERS } from '../support/start-app';
import { adminGet, sample, samplesOf, scrape, startAdminApp, type AdminApp, type Sample } from '../support/admin-app';
import { rawRpc } from '../support/start-microservice';
import { TempDir, TestPki } from '../support/test-pki';
import { handshakeOutcome, httpsGet, plainHttpExchange } from '../support/tls-probe';
import { waitForValue } from '../support/wait-for';

const seconds = (date: string | Date) => new Date(date).getTime() / 1000;

/**
 * GET /metrics on the admin port after real traffic: allowed and refused
 * calls over HTTPS and TCP, handshakes that fail for each kind of reason, and
 * reloads that succeed and fail. Every metric of the issue is asserted here,
 * by value.
 */
describe.each(HTTP_ADAPTERS)('admin port: /metrics (%s)', (adapter) => {
  let pki: TestPki;
  let files: TempDir;
  let svc: AdminApp;
  let before: Sample[];

  beforeAll(async () => {
    pki = await TestPki.create();
    // The served certificate lives in files of its own, so the reload tests can rewrite them.
    files = new TempDir('nest-mtls-metrics-');
    const us = pki.certs['user-service'].issued;
    const options = { certPath: files.write('tls.crt', us.chainPem), keyPath: files.write('tls.key', us.keyPem), trustStorePath: pki.trustStore, watch: false };
    svc = await startAdminApp(options, [UsersController], { tcp: true, providers: [UsersService], adapter });
    before = await scrape(svc.adminPort!);
  });

  afterAll(async () => {
    await svc?.close();
    files?.cleanup();
    pki?.cleanup();
  });

  it('starts every refusal reason at 0, and the reload results', () => {
    const reasons = samplesOf(before, 'mtls_handshake_failures_total').map((s) => s.labels.reason);
    expect(reasons.sort()).toEqual(
      ['no_certificate', 'unknown_ca', 'expired', 'not_yet_valid', 'revoked', 'revocation_unknown', 'crl_expired', 'bad_purpose', 'weak_key', 'protocol', 'timeout', 'renegotiation', 'other'].sort(),
    );
    expect(samplesOf(before, 'mtls_handshake_failures_total').every((s) => s.value === 0)).toBe(true);
    expect(sample(before, 'mtls_reloads_total', { result: 'success' })).toBe(0);
    expect(sample(before, 'mtls_reloads_total', { result: 'failure' })).toBe(0);
  });

  it('mtls_handshake_failures_total{reason}: failed handshakes on the HTTPS and the TCP port, by reason code', async () => {
    expect(await handshakeOutcome(svc.port, pki.clientTls(), '/users/1')).toBe('refused'); // no certificate
    expect(await handshakeOutcome(svc.port, pki.clientTls('expired'), '/users/1')).toBe('refused');
    expect(await handshakeOutcome(svc.port, pki.clientTls('untrusted'), '/users/1')).toBe('refused');
    expect(await handshakeOutcome(svc.port, pki.clientTls('server-only-eku'), '/users/1')).toBe('refused');
    await plainHttpExchange(svc.port); // plain HTTP to the TLS port
    expect(await rawRpc(svc.tcpPort!, pki.clientTls(), { cmd: 'get_user' }, { id: 1 })).toHaveProperty('failed'); // no certificate, over TCP
    const counted = (samples: Sample[]) => samplesOf(samples, 'mtls_handshake_failures_total').reduce((sum, s) => sum + s.value, 0);
    const after = await waitForValue(() => scrape(svc.adminPort!), (samples) => counted(samples) >= 6, 'six handshake failures counted');
    const failures = (reason: string) => sample(after, 'mtls_handshake_failures_total', { reason });
    expect(failures('no_certificate')).toBe(2);
    expect(failures('expired')).toBe(1);
    expect(failures('unknown_ca')).toBe(1);
    expect(failures('bad_purpose')).toBe(1);
    expect(failures('protocol')).toBe(1);
    for (const reason of ['not_yet_valid', 'revoked', 'crl_expired', 'weak_key', 'timeout', 'renegotiation', 'other']) expect(failures(reason)).toBe(0);
  });

  it('mtls_guard_decisions_total{route,outcome}: by the declared route or message pattern, never the raw URL', async () => {
    expect((await httpsGet(svc.port, '/users/1', pki.clientTls('home-page-service'))).status).toBe(200);
    expect((await httpsGet(svc.port, '/users/2', pki.clientTls('home-page-service'))).status).toBe(200);
    expect((await httpsGet(svc.port, '/users/1', pki.clientTls('event-service'))).status).toBe(403);
    expect(await rawRpc(svc.tcpPort!, pki.clientTls('home-page-service'), { cmd: 'get_user' }, { id: 1 })).toMatchObject({ answer: { response: { id: 1 } } });
    expect(await rawRpc(svc.tcpPort!, pki.clientTls('event-service'), { cmd: 'get_user' }, { id: 1 })).toMatchObject({ answer: { err: { status: 'error' } } });
    const after = await scrape(svc.adminPort!);
    const decisions = samplesOf(after, 'mtls_guard_decisions_total').map(({ labels, value }) => ({ ...labels, value }));
    expect(decisions).toHaveLength(4);
    expect(decisions).toEqual(
      expect.arrayContaining([
        { route: '/users/:id', outcome: 'allowed', value: 2 },
        { route: '/users/:id', outcome: 'refused', value: 1 },
        { route: '{"cmd":"get_user"}', outcome: 'allowed', value: 1 },
        { route: '{"cmd":"get_user"}', outcome: 'refused', value: 1 },
      ]),
    );
    // Why, in codes from fixed sets: the reason and the rule that refused (the subject regex), never the caller's DN.
    const refusals = samplesOf(after, 'mtls_guard_refusals_total').map(({ labels, value }) => ({ ...labels, value }));
    expect(refusals).toHaveLength(2);
    expect(refusals).toEqual(
      expect.arrayContaining([
        { route: '/users/:id', outcome: 'refused', reason: 'policy', rule: 'subject', value: 1 },
        { route: '{"cmd":"get_user"}', outcome: 'refused', reason: 'policy', rule: 'subject', value: 1 },
      ]),
    );
    for (const labels of refusals) expect(JSON.stringify(labels)).not.toMatch(/event-service|CN=/);
  });

  it('mtls_peer_certificate_expiry_timestamp_seconds{subject}: notAfter of the verified callers seen', async () => {
    const after = await scrape(svc.adminPort!);
    const peers = samplesOf(after, 'mtls_peer_certificate_expiry_timestamp_seconds');
    expect(peers.map((s) => s.labels.subject).sort()).toEqual(['CN=event-service,O=nest-mtls', 'CN=home-page-service,O=nest-mtls']);
    expect(sample(after, 'mtls_peer_certificate_expiry_timestamp_seconds', { subject: 'CN=home-page-service,O=nest-mtls' })).toBe(
      seconds(pki.certs['home-page-service'].issued.certificate.validTo),
    );
    // A refused handshake never reaches the guard: the expired certificate is not a caller.
    expect(peers.every((s) => s.value > Date.now() / 1000)).toBe(true);
  });

  it('mtls_certificate_expiry_timestamp_seconds{role,subject,serial}: our certificate, and the CA certificate sent with it', async () => {
    const after = await scrape(svc.adminPort!);
    const leaf = pki.certs['user-service'].issued.certificate;
    expect(samplesOf(after, 'mtls_certificate_expiry_timestamp_seconds').map(({ labels, value }) => ({ ...labels, value }))).toEqual([
      { role: 'server', subject: 'CN=user-service,O=nest-mtls', serial: leaf.serialNumber, value: seconds(leaf.validTo) },
      { role: 'chain', subject: 'CN=Test Global CA,O=nest-mtls test', serial: pki.global.certificate.serialNumber, value: seconds(pki.global.certificate.validTo) },
    ]);
  });

  it('mtls_reloads_total{result}: a reload of new files (success), of broken files (failure); unchanged files are not counted', async () => {
    const renewed = await issueCertificate(pki.global, { subject: 'CN=user-service,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1'] });
    writeFileSync(files.path('tls.crt'), renewed.chainPem);
    writeFileSync(files.path('tls.key'), renewed.keyPem);
    expect((await svc.source.reload('test', { force: false })).result).toBe('success');
    expect((await svc.source.reload('test', { force: false })).result).toBe('unchanged');
    writeFileSync(files.path('tls.crt'), '-----BEGIN CERTIFICATE-----\ntruncated');
    expect((await svc.source.reload('test', { force: false })).result).toBe('failure');
    const after = await scrape(svc.adminPort!);
    expect(sample(after, 'mtls_reloads_total', { result: 'success' })).toBe(1);
    expect(sample(after, 'mtls_reloads_total', { result: 'failure' })).toBe(1);
    expect(samplesOf(after, 'mtls_reloads_total')).toHaveLength(2);
    // The certificate now served is the renewed one: the expiry metric follows the material in use.
    expect(sample(after, 'mtls_certificate_expiry_timestamp_seconds', { role: 'server' })).toBe(seconds(renewed.certificate.validTo));
    expect(samplesOf(after, 'mtls_certificate_expiry_timestamp_seconds').find((s) => s.labels.role === 'server')?.labels.serial).toBe(renewed.certificate.serialNumber);
  });

  it("prom-client's default process and Node.js metrics are there too", async () => {
    const after = await scrape(svc.adminPort!);
    expect(sample(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(after, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(sample(after, 'process_start_time_seconds')).toBeGreaterThan(0);
  });

  it('serves the Prometheus text format, GET and HEAD only', async () => {
    const res = await adminGet(svc.adminPort!, '/metrics');
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toMatch(/^# HELP mtls_handshake_failures_total /m);
    expect(res.body).toMatch(/^# TYPE mtls_handshake_failures_total counter$/m);
    expect(res.body).toMatch(/^# TYPE mtls_certificate_expiry_timestamp_seconds gauge$/m);
    expect((await adminGet(svc.adminPort!, '/metrics', 'HEAD')).status).toBe(200);
    expect((await adminGet(svc.adminPort!, '/metrics', 'POST')).status).toBe(405);
  });

  it('keeps a registry per application: a second application in the same process counts only its own traffic', async () => {
    const other = await startAdminApp(pki.pemOptions('user-service'), [UsersController], { providers: [UsersService], adapter });
    try {
      expect(await handshakeOutcome(other.port, pki.clientTls(), '/users/1')).toBe('refused');
      const theirs = await waitForValue(() => scrape(other.adminPort!), (samples) => (sample(samples, 'mtls_handshake_failures_total', { reason: 'no_certificate' }) ?? 0) >= 1, 'the refusal counted');
      expect(sample(theirs, 'mtls_handshake_failures_total', { reason: 'no_certificate' })).toBe(1);
      expect(samplesOf(theirs, 'mtls_guard_decisions_total')).toEqual([]);
      const ours = await scrape(svc.adminPort!);
      expect(sample(ours, 'mtls_handshake_failures_total', { reason: 'no_certificate' })).toBe(2);
    } finally {
      await other.close();
    }
  });

  it('keeps at most maxPeerSubjects callers (the most recent), so cardinality stays bounded', async () => {
    const bounded = await startAdminApp(pki.pemOptions('user-service'), [UsersController], { admin: { port: 0, maxPeerSubjects: 2 }, providers: [UsersService], adapter });
    try {
      for (const caller of ['home-page-service', 'event-service', 'spiffe', 'event-service']) await httpsGet(bounded.port, '/users/1', pki.clientTls(caller));
      const peers = samplesOf(await scrape(bounded.adminPort!), 'mtls_peer_certificate_expiry_timestamp_seconds').map((s) => s.labels.subject);
      expect(peers).toEqual(['CN=workload', 'CN=event-service,O=nest-mtls']);
    } finally {
      await bounded.close();
    }
  });
});

/** mtls_revocation_checks_total after real revocation checks: CRL files checked by the revocation gate (crlCheck leaf). */
describe('admin port: /metrics of revocation checks', () => {
  let pki: TestPki;
  let svc: AdminApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startAdminApp(pki.pemOptions('user-service', { crlPath: pki.crlAll, crlCheck: 'leaf' }), [UsersController], { providers: [UsersService] });
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('mtls_revocation_checks_total{source,result}: one per new connection, good and revoked', async () => {
    expect((await httpsGet(svc.port, '/users/1', pki.clientTls('home-page-service'))).status).toBe(200);
    expect((await httpsGet(svc.port, '/users/1', pki.clientTls('home-page-service'))).status).toBe(200);
    expect(await handshakeOutcome(svc.port, pki.clientTls('revoked'), '/users/1')).toBe('refused');
    const after = await scrape(svc.adminPort!);
    expect(sample(after, 'mtls_revocation_checks_total', { source: 'crl', result: 'good' })).toBe(2);
    expect(sample(after, 'mtls_revocation_checks_total', { source: 'crl', result: 'revoked' })).toBe(1);
    expect(sample(after, 'mtls_handshake_failures_total', { reason: 'revoked' })).toBe(1);
  });
});
