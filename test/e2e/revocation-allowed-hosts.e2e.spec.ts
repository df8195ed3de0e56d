import type { ConnectionOptions } from 'node:tls';
import type { MtlsOptions } from 'nest-mtls';
import { createCrl, createIntermediateCa, issueCertificate, type IssuedCertificate } from 'nest-mtls/testing';
import { HealthController } from '../../apps/user-service/src/health.controller';
import { CrlServer } from '../support/crl-server';
import { OcspResponder } from '../support/ocsp-responder';
import { requireTool } from '../support/require-tool';
import { freePort } from '../support/spawn-service';
import { HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { handshakeOutcome, tlsOpen } from '../support/tls-probe';
import { waitForLine, waitFor } from '../support/wait-for';

requireTool('openssl', 'the allowed-hosts tests (openssl ocsp is the responder)');

const der = (pem: string) => Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----/g, ''), 'base64');
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Server-side request forgery through revocation URLs: a CA we trust issues
 * a client certificate whose CRL Distribution Points and OCSP responder name
 * an "internal" HTTP service on another port. Revocation information is
 * fetched only from the hosts our own chain and trust store name (here the
 * team CA in our chain names the CRL server and the OCSP responder), from
 * `ocspResponderUrl`'s host and from `revocationAllowedHosts`; everything
 * else is refused without a request, and the log says why. Fetches stop when
 * the connection that asked is gone, and one certificate cannot fan out.
 */
describe.each(HTTP_ADAPTERS)('%s: revocation URLs are fetched only from allowed hosts', (adapter) => {
  let pki: TestPki;
  let crls: CrlServer;
  let internal: CrlServer;
  let other: CrlServer;
  let responder: OcspResponder;
  let teamCa: IssuedCertificate;
  const apps: RunningApp[] = [];
  const tlsOf = (c: IssuedCertificate, localAddress?: string): ConnectionOptions => ({ key: c.keyPem, cert: c.chainPem, ca: pki.root.certPem, ...(localAddress ? { localAddress } : {}) });
  /** Our service, with its certificate from the team CA (whose CRL distribution point and OCSP responder name the hosts allowed by default). */
  const start = async (extra: Partial<MtlsOptions>) => {
    const app = await startWithOptions(pki.pemOptions('team-server', { revocationRefreshMs: 60_000, ...extra }), [HealthController], [], adapter);
    apps.push(app);
    return app;
  };
  const client = (name: string, spec: { crl?: string[]; ocsp?: string[] }) =>
    issueCertificate(teamCa, { subject: `CN=${name},O=nest-mtls`, crlDistributionPoints: spec.crl, ocspUrls: spec.ocsp });

  beforeAll(async () => {
    pki = await TestPki.create();
    [crls, internal, other] = await Promise.all([CrlServer.start(), CrlServer.start(), CrlServer.start()]);
    // A responder for the team CA; its port is known before the CA names it.
    const responderFiles = { caCert: pki.path('team-ca.crt'), signerCert: pki.path('team-ca.crt'), signerKey: pki.path('team-ca.key') };
    const port = await freePort();
    teamCa = await createIntermediateCa(pki.root, {
      subject: 'CN=Team CA,O=nest-mtls test',
      crlDistributionPoints: [crls.url('root.crl')],
      ocspUrls: [`http://127.0.0.1:${port}/`],
    });
    pki.write('team-ca.crt', teamCa.certPem);
    pki.write('team-ca.key', teamCa.keyPem);
    responder = await OcspResponder.start(pki, responderFiles, [], ['-nmin', '5'], port);
    await pki.issue('team-server', { subject: 'CN=user-service,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1'] }, teamCa);
    crls.files.set('root.crl', der(await createCrl(pki.root)));
    crls.files.set('team.crl', der(await createCrl(teamCa)));
    other.files.set('team.crl', der(await createCrl(teamCa)));
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await Promise.all([crls?.stop(), internal?.stop(), other?.stop(), responder?.stop()]);
    pki?.cleanup();
  });

  it('CRLDP: an allowed host (named by the CA in our chain) is fetched; a certificate naming an internal service is refused without a request, and the log says why', async () => {
    const svc = await start({ enableCRLDP: true });
    const good = await client('dp-allowed', { crl: [crls.url('team.crl')] });
    expect(await handshakeOutcome(svc.port, tlsOf(good))).toBe(200);
    expect(crls.count('team.crl')).toBe(1);
    const hostile = await client('dp-ssrf', { crl: [internal.url('admin/reset?all=1'), internal.url('latest/meta-data/iam')] });
    const outcome = await handshakeOutcome(svc.port, tlsOf(hostile, '127.0.0.94'));
    expect({ requestsToTheInternalService: internal.total(), outcome }).toEqual({ requestsToTheInternalService: 0, outcome: 'refused' });
    const line = await waitForLine(svc.logs.lines, /^WARN connection from 127\.0\.0\.94:\d+ refused: revocation_unknown /);
    expect(line).toContain(
      `(the CRL of CA CN=Team CA could not be downloaded: ${internal.url('admin/reset?all=1')}: not fetched: 127.0.0.1:${internal.port} is not a host our own chain or trust store names for revocation information, nor ocspResponderUrl's, nor in revocationAllowedHosts; ${internal.url('latest/meta-data/iam')}: not fetched: `,
    );
    expect(line).toMatch(/; presented subject CN=dp-ssrf,O=nest-mtls/);
    expect(internal.total()).toBe(0);
    expect(svc.logs.lines.find((l) => l.includes('revocation information is fetched only from'))).toMatch(
      new RegExp(`^LOG revocation information is fetched only from 127\\.0\\.0\\.1:${crls.port} \\(CRL distribution point of CN=Team CA, our chain\\), 127\\.0\\.0\\.1:${responder.port} \\(OCSP responder of CN=Team CA, our chain\\); other hosts are refused`),
    );
  });

  it('CRLDP: a certificate naming ten distribution points costs at most three downloads', async () => {
    const svc = await start({ enableCRLDP: true });
    const paths = Array.from({ length: 10 }, (_, i) => `fan-out-${i}.crl`);
    const fan = await client('dp-fan-out', { crl: paths.map((p) => crls.url(p)) });
    expect(await handshakeOutcome(svc.port, tlsOf(fan, '127.0.0.95'))).toBe('refused');
    const line = await waitForLine(svc.logs.lines, /^WARN connection from 127\.0\.0\.95:\d+ refused: revocation_unknown /);
    expect(line).toMatch(/fan-out-2\.crl answered HTTP 404; 7 more distribution points not tried\)/);
    expect(paths.map((p) => crls.count(p))).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('CRLDP: revocationAllowedHosts adds a host', async () => {
    const elsewhere = await client('dp-elsewhere', { crl: [other.url('team.crl')] });
    const without = await start({ enableCRLDP: true });
    expect(await handshakeOutcome(without.port, tlsOf(elsewhere))).toBe('refused');
    expect(other.total()).toBe(0);
    const svc = await start({ enableCRLDP: true, revocationAllowedHosts: [`127.0.0.1:${other.port}`] });
    expect(await handshakeOutcome(svc.port, tlsOf(elsewhere))).toBe(200);
    expect(other.count('team.crl')).toBe(1);
  });

  it('CRLDP: the hosts an intermediatesPath CA names are allowed too (CAs we chose to know)', async () => {
    // The fleet's CA names a host nothing else names (where its own and its clients' CRLs are published).
    const fleetCa = await createIntermediateCa(pki.root, { subject: 'CN=Fleet CA,O=nest-mtls test', crlDistributionPoints: [other.url('root.crl')] });
    other.files.set('root.crl', der(await createCrl(pki.root)));
    other.files.set('fleet.crl', der(await createCrl(fleetCa)));
    pki.write('fleet-ca.crt', fleetCa.certPem);
    const fleetClient = await issueCertificate(fleetCa, { subject: 'CN=fleet-client,O=nest-mtls', crlDistributionPoints: [other.url('fleet.crl')] });
    const before = other.count('fleet.crl');
    const without = await start({ enableCRLDP: true });
    expect(await handshakeOutcome(without.port, tlsOf(fleetClient))).toBe('refused');
    expect(other.count('fleet.crl')).toBe(before);
    const svc = await start({ enableCRLDP: true, intermediatesPath: pki.path('fleet-ca.crt') });
    expect(await handshakeOutcome(svc.port, tlsOf(fleetClient))).toBe(200);
    expect(other.count('fleet.crl')).toBe(before + 1);
    expect(svc.logs.lines.find((l) => l.includes('revocation information is fetched only from'))).toContain(`127.0.0.1:${other.port}`);
  });

  it('OCSP: the responder the CA in our chain names is asked; one a certificate names on another host is not, and the log says why', async () => {
    const svc = await start({ ocsp: true });
    const good = await client('ocsp-allowed', { ocsp: [responder.url] });
    await responder.update([{ serialNumber: good.certificate.serialNumber }]);
    expect(await handshakeOutcome(svc.port, tlsOf(good))).toBe(200);
    const hostile = await client('ocsp-ssrf', { ocsp: [internal.url('ocsp')] });
    expect(await handshakeOutcome(svc.port, tlsOf(hostile, '127.0.0.96'))).toBe('refused');
    const line = await waitForLine(svc.logs.lines, /^WARN connection from 127\.0\.0\.96:\d+ refused: revocation_unknown /);
    expect(line).toMatch(
      new RegExp(`\\(OCSP ${escape(internal.url('ocsp'))}: not fetched: 127\\.0\\.0\\.1:${internal.port} is not a host our own chain or trust store names for revocation information, nor ocspResponderUrl's, nor in revocationAllowedHosts\\); presented subject CN=ocsp-ssrf,O=nest-mtls`),
    );
    expect(internal.total()).toBe(0);
  });

  it('a slow CRL server: when the client that asked disconnects, the download is abandoned (the CRL server sees its request closed)', async () => {
    const svc = await start({ enableCRLDP: true, revocationTimeoutMs: 30_000 });
    crls.hangs.add('slow.crl');
    const slow = await client('dp-slow', { crl: [crls.url('slow.crl')] });
    const socket = await tlsOpen(svc.port, tlsOf(slow));
    await waitFor(() => crls.count('slow.crl') === 1, 'the service asks the CRL server');
    expect(crls.closed.get('slow.crl') ?? 0).toBe(0);
    const left = Date.now();
    socket.destroy();
    await waitFor(() => (crls.closed.get('slow.crl') ?? 0) === 1, 'the CRL server sees the request closed', 5000);
    expect(Date.now() - left).toBeLessThan(5000); // far below revocationTimeoutMs (30 s)
    // Nobody waits any more: not a failure of the CRL server, so a new client is asked about again at once.
    crls.hangs.delete('slow.crl');
    crls.files.set('slow.crl', der(await createCrl(teamCa)));
    expect(await handshakeOutcome(svc.port, tlsOf(slow))).toBe(200);
    expect(crls.count('slow.crl')).toBe(2);
  });
});
