import * as grpc from '@grpc/grpc-js';
import { Controller, Get } from '@nestjs/common';
import { filter, firstValueFrom } from 'rxjs';
import { ClientCert, MtlsMaterialSource, RequireClientCert, type MtlsReloadResult } from 'nest-mtls';
import { spiffeWorkloadApiSource } from 'nest-mtls/spiffe';
import { createRootCa, issueCertificate, type CertificateSpec, type IssuedCertificate } from 'nest-mtls/testing';
import { runService, freePort, startService, type RunningService } from '../support/spawn-service';
import { startWithOptions, type RunningApp } from '../support/start-app';
import { TempDir } from '../support/temp-dir';
import { keysIn } from '../support/reachable-secrets';
import { httpsGet, tlsOpen } from '../support/tls-probe';
import { waitForLine, waitFor } from '../support/wait-for';
import { answer, FakeWorkloadApi, svidMessage, workloadApiClient } from '../support/workload-api-server';

const TRUST_DOMAIN = 'spiffe://example.org';
const id = (workload: string) => `${TRUST_DOMAIN}/${workload}`;
const LOCAL = { dns: ['localhost'], ip: ['127.0.0.1'] };

/** A CA as SPIRE makes them: its trust domain as its URI SAN. */
const spireCa = (trustDomain = TRUST_DOMAIN, name = 'SPIFFE test CA') => createRootCa({ subject: `CN=${name},O=SPIRE,C=US`, uri: [trustDomain] });
/** An X509-SVID as SPIRE issues them (no CN; the SPIFFE ID is the one URI SAN), from `ca`. */
const issueSvid = (ca: IssuedCertificate, spiffeId: string, extra: Partial<CertificateSpec> = {}) => issueCertificate(ca, { subject: 'O=SPIRE,C=US', uri: [spiffeId], ...LOCAL, ...extra });
/** TLS options of a client presenting `svid` and trusting `cas`. */
const client = (svid: IssuedCertificate, ...cas: IssuedCertificate[]) => ({ key: svid.keyPem, cert: svid.chainPem, ca: cas.map((c) => c.certPem) });

/** The serial of the certificate a new handshake is served (upper-case hex). */
async function servedSerial(port: number, tls: ReturnType<typeof client>): Promise<string> {
  const socket = await tlsOpen(port, tls);
  try {
    return socket.getPeerX509Certificate()!.serialNumber.toUpperCase();
  } finally {
    socket.destroy();
  }
}

/** Polls `probe` until it returns `want` (a loaded machine: generous deadline), returning the last value seen. */
async function eventually<T>(probe: () => Promise<T>, want: T, what: string, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
    } catch (err) {
      last = (err as Error).message as T;
    }
    if (last === want) return last;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)} after ${limitMs} ms, wanted ${JSON.stringify(want)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GET on the admin port. */
async function health(adminPort: number): Promise<{ status: number; body: { status: string; error?: Record<string, { message?: string; error?: string }> } }> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/health`);
  return { status: res.status, body: (await res.json()) as never };
}

/**
 * user-service, spawned as in production with `MTLS_SPIFFE=true` and
 * `SPIFFE_ENDPOINT_SOCKET`, takes its X509-SVID and trust bundle from a
 * Workload API server (built here from the spec's workload.proto) and
 * follows its stream.
 */
describe('user-service on the SPIFFE Workload API (MTLS_SPIFFE=true)', () => {
  const STALE_AFTER_MS = 5000;
  let dir: TempDir;
  let api: FakeWorkloadApi;
  let ca: IssuedCertificate;
  let home: IssuedCertificate;
  let events: IssuedCertificate;
  let served: IssuedCertificate;
  let svc: RunningService;
  let port: number;
  let adminPort: number;
  const push = (svid: IssuedCertificate, bundle: IssuedCertificate[]) => api.push(answer([svidMessage(id('user-service'), svid, bundle)]));

  beforeAll(async () => {
    dir = new TempDir('nest-mtls-spiffe-');
    ca = await spireCa();
    [served, home, events] = await Promise.all([issueSvid(ca, id('user-service')), issueSvid(ca, id('home-page-service')), issueSvid(ca, id('event-service'))]);
    api = new FakeWorkloadApi(dir.path('agent.sock'));
    await api.start();
    push(served, [ca]);
    [port, adminPort] = [await freePort(), await freePort()];
    svc = await startService('user-service', {
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      MTLS_SPIFFE: 'true',
      SPIFFE_ENDPOINT_SOCKET: api.uri,
      MTLS_SPIFFE_ID: id('user-service'),
      MTLS_SPIFFE_STALE_AFTER_MS: String(STALE_AFTER_MS),
    });
  });

  afterAll(async () => {
    await svc?.stop();
    await api?.stop();
    dir?.cleanup();
  });

  it("serves its X509-SVID: home-page-service's SVID is allowed by the spiffeId rule of GET /users, event-service's refused", async () => {
    expect(await servedSerial(port, client(home, ca))).toBe(served.certificate.serialNumber.toUpperCase());
    const allowed = await httpsGet(port, '/users', client(home, ca));
    expect(allowed.status).toBe(200);
    expect(allowed.json).toEqual(expect.arrayContaining([expect.objectContaining({ id: 1 })]));
    const refused = await httpsGet(port, '/users', client(events, ca));
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({ statusCode: 403, message: 'Certificate subject is not recognized!' });
    expect(api.headers.length).toBeGreaterThan(0);
    expect(api.headers.every((h) => h === 'true')).toBe(true);
  });

  it('follows the stream: a rotation pushed by the Workload API reaches new handshakes, without a restart', async () => {
    const next = await issueSvid(ca, id('user-service'));
    push(next, [ca]);
    await eventually(() => servedSerial(port, client(home, ca)), next.certificate.serialNumber.toUpperCase(), 'the serial new handshakes are served');
    expect(svc.output()).toMatch(/reloaded the TLS material \(change in SPIFFE Workload API unix:\/\/\/[^)]*agent\.sock\)/);
    expect((await httpsGet(port, '/users', client(home, ca))).status).toBe(200);
    served = next;
  });

  it('a bundle change: a client of the new CA is refused in the handshake before the push, admitted after it', async () => {
    const nextCa = await spireCa(TRUST_DOMAIN, 'SPIFFE test CA 2');
    const homeOfNextCa = await issueSvid(nextCa, id('home-page-service'));
    await expect(httpsGet(port, '/users', client(homeOfNextCa, ca))).rejects.toThrow();
    push(served, [ca, nextCa]); // SPIRE publishes the next CA in the bundle before it signs with it
    await eventually(async () => (await httpsGet(port, '/users', client(homeOfNextCa, ca))).status, 200, 'a client of the new CA');
    expect((await httpsGet(port, '/users', client(home, ca))).status).toBe(200);
  });

  it(`a broken stream: the last SVID stays, /health goes down after staleAfterMs (${STALE_AFTER_MS} ms), and a reconnected stream brings it back`, async () => {
    expect((await health(adminPort)).status).toBe(200);
    await api.stop(); // the agent is gone, and its socket with it
    const brokenAt = Date.now();
    await waitFor(() => /the SPIFFE Workload API stream at unix:\/\/\/\S*agent\.sock broke/.test(svc.output()), 'the break is logged', 20_000);
    expect(await servedSerial(port, client(home, ca))).toBe(served.certificate.serialNumber.toUpperCase());
    expect((await httpsGet(port, '/users', client(home, ca))).status).toBe(200);
    if (Date.now() - brokenAt < STALE_AFTER_MS - 1000) expect((await health(adminPort)).status).toBe(200); // within the grace (unless this machine is very slow)

    const down = await eventually(async () => (await health(adminPort)).status, 503, '/health after the grace');
    expect(down).toBe(503);
    expect(Date.now() - brokenAt).toBeGreaterThanOrEqual(STALE_AFTER_MS - 50);
    const { body } = await health(adminPort);
    expect(body.error?.reload?.error).toMatch(
      new RegExp(`^SPIFFE_ENDPOINT_SOCKET \\(socketPath\\): the SPIFFE Workload API at unix:///\\S*agent\\.sock has not answered since \\S+ \\(longer than staleAfterMs, ${STALE_AFTER_MS / 1000} s\\): .*; still serving the last X509-SVID until it answers again$`),
    );
    // Still served all along.
    expect((await httpsGet(port, '/users', client(home, ca))).status).toBe(200);

    const callsBefore = api.calls;
    await api.start(); // the agent is back; it answers with the same SVID
    await eventually(async () => (await health(adminPort)).status, 200, '/health once the stream answers again');
    expect(api.calls).toBeGreaterThan(callsBefore);
    expect(svc.output()).toMatch(/the SPIFFE Workload API at unix:\/\/\/\S*agent\.sock answers again/);
    // And the stream is followed again: a rotation after the reconnection arrives.
    const next = await issueSvid(ca, id('user-service'));
    push(next, [ca]);
    await eventually(() => servedSerial(port, client(home, ca)), next.certificate.serialNumber.toUpperCase(), 'the serial after the reconnection');
    served = next;
  });
});

describe('user-service with an unreachable Workload API at startup', () => {
  let dir: TempDir;
  beforeAll(() => (dir = new TempDir('nest-mtls-spiffe-')));
  afterAll(() => dir?.cleanup());

  it('exits before it listens, with one line naming SPIFFE_ENDPOINT_SOCKET and the path', async () => {
    const socket = dir.path('no-agent-here/agent.sock');
    const run = await runService('user-service', { MTLS_SPIFFE: 'true', SPIFFE_ENDPOINT_SOCKET: `unix://${socket}`, MTLS_SPIFFE_STARTUP_TIMEOUT_MS: '1500' });
    expect(run.listened).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`no X509-SVID yet from the SPIFFE Workload API at unix://\\S+agent\\.sock: UNAVAILABLE: .*; trying again for up to 1\\.5 s`));
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^user-service: configuration error: SPIFFE_ENDPOINT_SOCKET \\(socketPath\\): the SPIFFE Workload API at unix://${socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} gave no X509-SVID within 1.5 s: UNAVAILABLE: .*ENOENT.* \\(is the SPIRE agent running, and is this its socket\\?\\)$`,
      ),
    );
  });

  it('refuses an option variable without MTLS_SPIFFE=true, and a misspelt one', async () => {
    const stray = await runService('user-service', { MTLS_SPIFFE_ID: id('user-service'), NODE_ENV: 'production' });
    expect(stray.listened).toBe(false);
    expect(stray.stderr.trim()).toBe('user-service: configuration error: MTLS_SPIFFE_ID: is set but MTLS_SPIFFE is not true, so nothing reads it: set MTLS_SPIFFE=true to take the material from the SPIFFE Workload API');
    const typo = await runService('user-service', { MTLS_SPIFFE: 'true', MTLS_SPIFE_ID: id('user-service'), SPIFFE_ENDPOINT_SOCKET: 'unix:///nowhere.sock' });
    expect(typo.listened).toBe(false);
    expect(typo.stderr.trim()).toMatch(/^user-service: configuration error: MTLS_SPIFE_ID: not a setting of nest-mtls; did you mean MTLS_SPIFFE_ID\?/);
  });
});

@Controller()
class UsersController {
  @Get('users')
  @RequireClientCert({ spiffeId: id('home-page-service') })
  list(@ClientCert('spiffeId') caller: string): { caller: string } {
    return { caller };
  }
}

/**
 * The answers nest-mtls/spiffe refuses, at startup (the application does not
 * start) and on the stream (the last good material stays, the reload fails
 * naming why), in-process with MtlsModule.forRoot({ source }).
 */
describe('nest-mtls/spiffe: answers of the Workload API that are refused', () => {
  let dir: TempDir;
  let api: FakeWorkloadApi;
  let ca: IssuedCertificate;
  let otherCa: IssuedCertificate;
  let good: IssuedCertificate;
  let home: IssuedCertificate;
  let bad: Record<string, () => ReturnType<typeof answer>>;

  beforeAll(async () => {
    dir = new TempDir('nest-mtls-spiffe-');
    ca = await spireCa();
    otherCa = await spireCa('spiffe://other.org', 'Other trust domain CA');
    const plainCa = await createRootCa({ subject: 'CN=CA without a SPIFFE ID' });
    const [a, b, noUri, twoUris, httpsUri, evil, unsigned, other, plainEvil, rootId] = await Promise.all([
      issueSvid(ca, id('user-service')),
      issueSvid(ca, id('user-service')),
      issueCertificate(ca, { subject: 'CN=user-service', ...LOCAL }),
      issueSvid(ca, id('user-service'), { uri: [id('user-service'), id('admin')] }),
      issueSvid(ca, 'https://example.org/user-service'),
      issueSvid(ca, 'spiffe://evil.org/user-service'),
      issueSvid(otherCa, id('user-service')),
      issueSvid(otherCa, 'spiffe://other.org/user-service'),
      issueSvid(plainCa, 'spiffe://evil.org/user-service'),
      issueSvid(ca, TRUST_DOMAIN),
    ]);
    good = a;
    home = await issueSvid(ca, id('home-page-service'));
    const one = (m: ReturnType<typeof svidMessage>) => answer([m]);
    bad = {
      'a key that does not match the SVID': () => one(svidMessage(id('user-service'), a, [ca], { x509_svid_key: b.key.export({ type: 'pkcs8', format: 'der' }) })),
      'no bundle': () => one(svidMessage(id('user-service'), a, [])),
      'an ID outside the trust domain of the bundle': () => one(svidMessage('spiffe://evil.org/user-service', evil, [ca])),
      'an SVID of another trust domain than the one served, with its own CA and bundle': () => one(svidMessage('spiffe://other.org/user-service', other, [otherCa])),
      'no SVID of the spiffeId asked for': () => one(svidMessage(id('event-service'), a, [ca], { spiffe_id: id('event-service') })),
      'a certificate without URI SAN (not an X509-SVID)': () => one(svidMessage(id('user-service'), noUri, [ca])),
      'a certificate with two URI SANs (not an X509-SVID)': () => one(svidMessage(id('user-service'), twoUris, [ca])),
      'a URI SAN that is not spiffe:// (not an X509-SVID)': () => one(svidMessage(id('user-service'), httpsUri, [ca])),
      'a SPIFFE ID without a path (not an X509-SVID)': () => one(svidMessage(id('user-service'), rootId, [ca])),
      'a spiffe_id that is not the certificate\'s': () => one(svidMessage(id('user-service'), a, [ca], { x509_svid: Buffer.concat(home.chain.map((c) => c.raw)), x509_svid_key: home.key.export({ type: 'pkcs8', format: 'der' }) })),
      'an SVID its bundle does not sign': () => one(svidMessage(id('user-service'), unsigned, [ca])),
      'no SVID at all': () => answer([]),
      'bytes that are not DER certificates': () => one(svidMessage(id('user-service'), a, [ca], { x509_svid: Buffer.from('not a certificate') })),
    };
    // A CA that names no trust domain may sign an ID of any: spiffeId (or the trust domain served so far) catches it.
    bad['an ID of another trust domain than spiffeId, or than the one served, from a CA that names none'] = () => one(svidMessage('spiffe://evil.org/user-service', plainEvil, [plainCa]));
    api = new FakeWorkloadApi(dir.path('agent.sock'));
    await api.start();
  });

  afterAll(async () => {
    await api?.stop();
    dir?.cleanup();
  });

  /**
   * Each refused answer, with what is said about it: at startup (a source
   * asking for `spiffeId: spiffe://example.org/user-service`, unless the row
   * says `anyId`), and on the stream of a running application whose source
   * asks for no spiffeId (it serves the first SVID, in the trust domain it
   * started with). `undefined`: not meaningful there.
   */
  const REFUSALS: { name: string; startup?: RegExp; stream?: RegExp; anyId?: boolean }[] = [
    { name: 'a key that does not match the SVID', startup: /the X509-SVID spiffe:\/\/example\.org\/user-service: its private key does not match its certificate$/ },
    { name: 'no bundle', startup: /the X509-SVID spiffe:\/\/example\.org\/user-service: no trust bundle \(the CAs of trust domain example\.org\): nothing to verify peers with$/ },
    {
      name: 'an ID outside the trust domain of the bundle',
      anyId: true,
      startup: /the X509-SVID spiffe:\/\/evil\.org\/user-service: its SPIFFE ID is outside the trust domain of its CA CN=SPIFFE test CA, which is example\.org, not evil\.org$/,
    },
    { name: 'no SVID of the spiffeId asked for', startup: /no X509-SVID for spiffeId spiffe:\/\/example\.org\/user-service; the Workload API offers spiffe:\/\/example\.org\/event-service$/, stream: undefined },
    {
      name: 'an ID of another trust domain than spiffeId, or than the one served, from a CA that names none',
      startup: /no X509-SVID for spiffeId spiffe:\/\/example\.org\/user-service; the Workload API offers spiffe:\/\/evil\.org\/user-service$/,
      stream: /the X509-SVID spiffe:\/\/evil\.org\/user-service: its SPIFFE ID is outside trust domain example\.org, the trust domain served so far \(a running service does not change trust domains: restart it to move\)$/,
    },
    {
      name: 'an SVID of another trust domain than the one served, with its own CA and bundle',
      stream: /the X509-SVID spiffe:\/\/other\.org\/user-service: its SPIFFE ID is outside trust domain example\.org, the trust domain served so far/,
    },
    { name: 'a certificate without URI SAN (not an X509-SVID)', startup: /not an X509-SVID: its certificate \(CN=user-service\) has 0 URI SANs; an X509-SVID has exactly one, its SPIFFE ID$/ },
    { name: 'a certificate with two URI SANs (not an X509-SVID)', startup: /not an X509-SVID: its certificate \(C=US, O=SPIRE\) has 2 URI SANs; an X509-SVID has exactly one, its SPIFFE ID$/ },
    {
      name: 'a URI SAN that is not spiffe:// (not an X509-SVID)',
      startup: /not an X509-SVID: its URI SAN https:\/\/example\.org\/user-service is not a SPIFFE ID \(it must start with spiffe:\/\/ \(lowercase\)\)$/,
    },
    { name: 'a SPIFFE ID without a path (not an X509-SVID)', startup: /not an X509-SVID: its SPIFFE ID spiffe:\/\/example\.org names a trust domain, not a workload \(no path\)$/ },
    { name: "a spiffe_id that is not the certificate's", startup: /its certificate's SPIFFE ID is spiffe:\/\/example\.org\/home-page-service, not the one the answer names$/ },
    // Not the source's check: the material checks MtlsModule runs on any material refuse it.
    { name: 'an SVID its bundle does not sign', startup: /^validateCerts: the certificate C=US, O=SPIRE from SPIFFE Workload API unix:\/\/\/\S+ does not chain to a CA in ca of SPIFFE Workload API unix:\/\/\/\S+$/ },
    { name: 'no SVID at all', startup: /: the answer holds no X509-SVID \(does a registration entry match this workload\?\)$/ },
    { name: 'bytes that are not DER certificates', startup: /the X509-SVID spiffe:\/\/example\.org\/user-service: x509_svid is not DER certificates one after another: / },
  ];
  /** The message of a refusal on the stream: the row's own, or the one at startup. */
  const onStream = (row: (typeof REFUSALS)[number]) => ('stream' in row ? row.stream : row.startup);

  describe('at startup: the application does not start', () => {
    it.each(REFUSALS.filter((row) => row.startup).map((row) => [row.name, row] as const))('%s', async (name, row) => {
      api.push(bad[name]());
      const source = spiffeWorkloadApiSource({ socketPath: api.uri, spiffeId: row.anyId ? undefined : id('user-service'), startupTimeoutMs: 20_000 });
      const started = MtlsMaterialSource.create({ source });
      try {
        await expect(started).rejects.toThrow(row.startup);
        await waitFor(() => api.open === 0, 'the stream of the failed startup is closed');
      } finally {
        (await started.catch(() => undefined))?.close(); // had it started, its stream must not outlive the test
      }
    });

    it('the first SVID is served when no spiffeId is given (as go-spiffe picks it), the one asked for otherwise', async () => {
      const [first, second] = await Promise.all([issueSvid(ca, id('first')), issueSvid(ca, id('second'))]);
      api.push(answer([svidMessage(id('first'), first, [ca]), svidMessage(id('second'), second, [ca])]));
      const byDefault = await MtlsMaterialSource.create({ source: spiffeWorkloadApiSource({ socketPath: api.uri }) });
      const chosen = await MtlsMaterialSource.create({ source: spiffeWorkloadApiSource({ socketPath: api.uri, spiffeId: id('second') }) });
      try {
        expect(byDefault.current().material.identity.chain[0].serialNumber).toBe(first.certificate.serialNumber);
        expect(chosen.current().material.identity.chain[0].serialNumber).toBe(second.certificate.serialNumber);
        expect(byDefault.current().material.identity.source).toBe(`SPIFFE Workload API ${api.uri}`);
      } finally {
        byDefault.close();
        chosen.close();
      }
      await waitFor(() => api.open === 0, 'both streams closed with their sources');
    });

    it('a Workload API that refuses the request itself (InvalidArgument) stops startup at once, naming the socket', async () => {
      api.refuse(grpc.status.INVALID_ARGUMENT, 'security header missing from request');
      const started = Date.now();
      await expect(MtlsMaterialSource.create({ source: spiffeWorkloadApiSource({ socketPath: api.uri, startupTimeoutMs: 20_000 }) })).rejects.toThrow(
        `socketPath: the SPIFFE Workload API at ${api.uri} refused the request: INVALID_ARGUMENT: security header missing from request`,
      );
      expect(Date.now() - started).toBeLessThan(15_000);
    });

    it('an agent that holds no identity for this workload (PermissionDenied) is waited for, then named', async () => {
      api.refuse(grpc.status.PERMISSION_DENIED, 'no identity issued');
      await expect(MtlsMaterialSource.create({ source: spiffeWorkloadApiSource({ socketPath: api.uri, startupTimeoutMs: 2500 }) })).rejects.toThrow(
        `socketPath: the SPIFFE Workload API at ${api.uri} gave no X509-SVID within 2.5 s: PERMISSION_DENIED: no identity issued (the agent holds no identity for this process: does a registration entry match it?)`,
      );
    });
  });

  describe('on the stream: the last good material stays, and the reload fails naming why', () => {
    let app: RunningApp;
    let source: MtlsMaterialSource;
    const nextReload = () => firstValueFrom(source.reloads.pipe(filter((r: MtlsReloadResult) => r.result !== 'unchanged')));

    beforeAll(async () => {
      api.push(answer([svidMessage(id('user-service'), good, [ca])]));
      app = await startWithOptions({ source: spiffeWorkloadApiSource({ socketPath: api.uri }) }, [UsersController]);
      source = app.app.get(MtlsMaterialSource);
    });

    afterAll(async () => {
      await app?.close();
    });

    // Each row starts from the good SVID served, whatever the row before did.
    afterEach(async () => {
      api.push(answer([svidMessage(id('user-service'), good, [ca])]));
      await waitFor(() => source.current().material.identity.chain[0].serialNumber === good.certificate.serialNumber && source.lastReload?.result !== 'failure', 'the good SVID served again', 20_000);
    });

    it('serves the SVID over real mTLS: the spiffeId rule sees the caller', async () => {
      expect(await servedSerial(app.port, client(home, ca))).toBe(good.certificate.serialNumber.toUpperCase());
      expect((await httpsGet(app.port, '/users', client(home, ca))).json).toEqual({ caller: id('home-page-service') });
    });

    it.each(REFUSALS.filter((row) => onStream(row)).map((row) => [row.name, onStream(row)!] as const))('%s', async (name, message) => {
      const failed = nextReload();
      api.push(bad[name]());
      const result = await failed;
      expect(result.result).toBe('failure');
      expect(result.error).toMatch(message);
      expect(source.lastReload?.result).toBe('failure');
      expect(await servedSerial(app.port, client(home, ca))).toBe(good.certificate.serialNumber.toUpperCase());
      expect((await httpsGet(app.port, '/users', client(home, ca))).status).toBe(200);
      // A good answer ends it (a retry of the failed reload may come first: it fails the same way).
      const recovered = firstValueFrom(source.reloads.pipe(filter((r: MtlsReloadResult) => r.result !== 'failure')));
      api.push(answer([svidMessage(id('user-service'), good, [ca])]));
      expect(['unchanged', 'success']).toContain((await recovered).result);
      expect(source.lastReload?.result).not.toBe('failure');
      expect(await servedSerial(app.port, client(home, ca))).toBe(good.certificate.serialNumber.toUpperCase());
    });

    it('federated bundles are not trusted: a peer of a federated trust domain is refused in the handshake, and the offer is logged', async () => {
      const partnerCa = await spireCa('spiffe://partner.org', 'Partner CA');
      const partner = await issueSvid(partnerCa, 'spiffe://partner.org/billing');
      const from = app.logs.lines.length;
      const reloaded = firstValueFrom(source.reloads);
      api.push(answer([svidMessage(id('user-service'), good, [ca])], { federated_bundles: { 'spiffe://partner.org': partnerCa.certificate.raw } }));
      expect((await reloaded).result).toBe('unchanged'); // the material is what it was: the partner's CA is not in it
      await waitForLine(app.logs.lines, /federated bundles of spiffe:\/\/partner\.org: not trusted/, 20_000, from);
      await expect(httpsGet(app.port, '/users', client(partner, ca))).rejects.toThrow();
      expect((await httpsGet(app.port, '/users', client(home, ca))).status).toBe(200);
    });

    it('the header workload.spiffe.io: true is sent on every call; the server refuses a call without it, as SPIRE does', async () => {
      expect(api.headers.filter((h) => h !== undefined).length).toBeGreaterThan(0);
      const before = api.headers.length;
      const bare = workloadApiClient(api.socketPath);
      try {
        const status = await new Promise<grpc.StatusObject>((resolve) => {
          const call = bare.FetchX509SVID({});
          call.on('error', () => undefined);
          call.on('status', resolve);
        });
        expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
        expect(status.details).toBe('security header missing from request');
        expect(api.headers.slice(before)).toEqual([undefined]);
      } finally {
        bare.close();
      }
      // Every call our source made carried it.
      expect(api.headers.slice(0, before).every((h) => h === 'true')).toBe(true);
    });

    it('nothing reachable from the snapshot or the MtlsMaterialSource (even by walking its properties) holds the private key, nor the SPIFFE source that reads it', async () => {
      const snapshot = source.current();
      expect(snapshot.material.identity.source).toBe(`SPIFFE Workload API ${api.uri}`);
      // The options in a snapshot are a view without the secrets: the PEM source (its read() returns the key) is not in it.
      expect('source' in snapshot.options).toBe(false);
      expect(keysIn(snapshot)).toEqual([]);
      expect(keysIn(source)).toEqual([]);
      // The check can find one: what the SPIFFE source's read() hands MtlsModule holds it.
      const spiffe = spiffeWorkloadApiSource({ socketPath: api.uri });
      try {
        expect(keysIn(spiffe)).toEqual([]);
        expect(keysIn(await spiffe.read())).not.toEqual([]);
      } finally {
        spiffe.close();
      }
    });

    it('closing the application closes the stream', async () => {
      expect(api.open).toBeGreaterThan(0);
      await app.close();
      await waitFor(() => api.open === 0, 'no stream open after app.close()');
    });
  });
});
