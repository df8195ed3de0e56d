import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { HealthController } from '../../apps/user-service/src/health.controller';
import { handshakesFrom } from '../support/handshake-flood';
import { HTTP_ADAPTERS, startUserService, startWithOptions, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { handshakeOutcome, httpsGet, plainHttpExchange, renegotiationOutcome, tlsOpen } from '../support/tls-probe';
import { waitFor, waitForLine } from '../support/wait-for';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Every refused handshake is one log line with the peer's address, a stable
 * reason code, the low-level reason, and a hint where one helps. Each case
 * connects from its own loopback address (127.0.0.N), so that the lines of
 * different cases are not summarised together.
 */
describe.each(HTTP_ADAPTERS)('%s: refused handshakes in the log', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;
  let host = 10;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startUserService(pki, { MTLS_HANDSHAKE_TIMEOUT_MS: '500' }, adapter);
    await pki.selfSigned('forged', { subject: 'CN=home-page-service,O=nest-mtls', extendedKeyUsage: ['clientAuth'] });
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  /** Runs `attempt` from a fresh loopback address and returns the log lines that name that address. */
  async function linesFor(attempt: (localAddress: string) => Promise<unknown>): Promise<string[]> {
    const localAddress = `127.0.0.${++host}`;
    await attempt(localAddress);
    const names = (l: string) => l.includes(` ${localAddress}:`) || l.includes(` ${localAddress} `);
    await waitFor(() => svc.logs.lines.some(names), `a log line naming ${localAddress}`);
    return svc.logs.lines.filter(names);
  }

  const tlsAs = (who: string | undefined, localAddress: string, extra: ConnectionOptions = {}) =>
    handshakeOutcome(svc.port, { ...pki.clientTls(who), localAddress, ...extra });

  it.each([
    ['no certificate', undefined, /refused: no_certificate \(ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE\); hint: the client sent no certificate/],
    ['a certificate from an untrusted CA', 'untrusted', /refused: unknown_ca \(UNABLE_TO_GET_ISSUER_CERT_LOCALLY\)/],
    ['an expired certificate', 'expired', /refused: expired \(CERT_HAS_EXPIRED\); hint: the certificate \(or a CA in its chain\) has expired/],
    ['a certificate without clientAuth', 'server-only-eku', /refused: bad_purpose \(INVALID_PURPOSE\); hint: .*clientAuth/],
  ])('%s', async (_what, who, expected) => {
    const lines = await linesFor(async (localAddress) => expect(await tlsAs(who, localAddress)).toBe('refused'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^WARN TLS handshake from 127\.0\.0\.\d+:\d+ refused: /);
    expect(lines[0]).toMatch(expected);
  });

  it('a 1024-bit RSA key (below securityLevel 2)', async () => {
    await pki.issue('weak-rsa', { subject: 'CN=home-page-service,O=nest-mtls', keyAlgorithm: 'rsa', modulusLength: 1024 });
    // The client lowers its own level (Node 24's default, 2, would not even load its key), so that our server judges the key.
    const lines = await linesFor(async (localAddress) => expect(await tlsAs('weak-rsa', localAddress, { ciphers: 'DEFAULT@SECLEVEL=0' })).toBe('refused'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/refused: weak_key \(\w+\); hint: the key or signature of a certificate in the chain is too weak/);
  });

  it('a self-signed certificate', async () => {
    const lines = await linesFor(async (localAddress) =>
      expect(await tlsAs('forged', localAddress)).toBe('refused'),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/refused: unknown_ca \(DEPTH_ZERO_SELF_SIGNED_CERT\); hint: the certificate is self-signed/);
  });

  it('a leaf sent without its intermediate: the hint says to send the chain', async () => {
    const leafOnly = { key: pki.certs['home-page-service'].issued.keyPem, cert: pki.certs['home-page-service'].issued.certPem, ca: pki.root.certPem };
    // Control: the same key with the chain file gets in.
    expect(await handshakeOutcome(svc.port, pki.clientTls('home-page-service'))).toBe(200);
    const lines = await linesFor(async (localAddress) => expect(await handshakeOutcome(svc.port, { ...leafOnly, localAddress })).toBe('refused'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/refused: unknown_ca \(\w+\); hint: .*the client sent no chain; send the intermediate with the certificate/);
    expect(lines[0]).toMatch(/\((UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/);
  });

  it('plain HTTP to the TLS port', async () => {
    const before = svc.logs.lines.length;
    await plainHttpExchange(svc.port);
    await waitForLine(svc.logs.lines, /^WARN TLS handshake from 127\.0\.0\.1:\d+ refused: protocol/, 10_000, before);
    expect(svc.logs.lines.slice(before).some((l) => /^WARN TLS handshake from 127\.0\.0\.1:\d+ refused: protocol \(ERR_SSL_HTTP_REQUEST\); hint: plain HTTP was sent to the TLS port: use https:\/\//.test(l))).toBe(true);
  });

  it('TLS 1.1', async () => {
    const lines = await linesFor((localAddress) =>
      expect(tlsOpen(svc.port, { ...pki.clientTls('home-page-service'), localAddress, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as ConnectionOptions)).rejects.toThrow(),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/refused: protocol \(ERR_SSL_UNSUPPORTED_PROTOCOL\)/);
  });

  it('a client that never finishes the handshake (handshakeTimeoutMs)', async () => {
    const lines = await linesFor(
      (localAddress) =>
        new Promise<void>((resolve) => {
          const socket = netConnect({ host: '127.0.0.1', port: svc.port, localAddress });
          socket.on('error', () => undefined);
          socket.on('close', () => resolve());
        }),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/refused: timeout \(ERR_TLS_HANDSHAKE_TIMEOUT\)/);
  });

  it('client-initiated renegotiation: once, with the address', async () => {
    const lines = await linesFor(async (localAddress) =>
      expect(await renegotiationOutcome(svc.port, { ...pki.clientTls('home-page-service'), localAddress } as ConnectionOptions)).not.toBe('renegotiated'),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^WARN TLS renegotiation from 127\.0\.0\.\d+:\d+ refused: renegotiation \(client-initiated renegotiation is disabled\)$/);
  });

  it('a flood of identical refusals from one peer is one line (the rest are counted for the summary)', async () => {
    const lines = await linesFor(async (localAddress) => {
      for (let i = 0; i < 30; i++) expect(await tlsAs(undefined, localAddress)).toBe('refused');
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/refused: no_certificate/);
  });
});

describe.each(HTTP_ADAPTERS)('%s: refused handshakes in the log, with CRLs', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startUserService(pki, { MTLS_CRL_PATH: pki.crlAll }, adapter);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it.each([
    ['a revoked certificate', 'revoked', '127.0.0.41', /refused: revoked \(CERT_REVOKED\)$/],
    // OpenSSL goes on after the untrusted chain and ends at "no CRL for its CA": still unknown_ca, with a hint naming both causes.
    ['a certificate from an untrusted CA', 'untrusted', '127.0.0.42', /refused: unknown_ca \(UNABLE_TO_GET_CRL\); hint: no CRL for a CA of the presented chain: the chain does not lead to a CA we trust/],
  ])('%s', async (_what, who, localAddress, expected) => {
    expect(await handshakeOutcome(svc.port, { ...pki.clientTls(who), localAddress })).toBe('refused');
    await waitFor(() => svc.logs.lines.some((l) => l.includes(` ${localAddress}:`)), `a log line naming ${localAddress}`);
    const lines = svc.logs.lines.filter((l) => l.includes(` ${localAddress}:`));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
  });
});

describe.each(HTTP_ADAPTERS)('%s: a CRL that passes its nextUpdate while the service runs', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;
  let nextUpdate: Date;

  beforeAll(async () => {
    pki = await TestPki.create();
    nextUpdate = new Date(Date.now() + 3000);
    const crlPath = await pki.writeCrls('short-crl.pem', [pki.root], [pki.global, { nextUpdate }]);
    svc = await startWithOptions(pki.pemOptions('user-service', { crlPath }), [HealthController], [], adapter);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('serves before, then refuses every client with reason crl_expired', async () => {
    expect(await handshakeOutcome(svc.port, pki.clientTls('home-page-service'))).toBe(200);
    await sleep(Math.max(0, nextUpdate.getTime() - Date.now()) + 1200);
    const before = svc.logs.lines.length;
    expect(await handshakeOutcome(svc.port, pki.clientTls('home-page-service'))).toBe('refused');
    const line = await waitForLine(svc.logs.lines, /TLS handshake from/, 10_000, before);
    expect(line).toMatch(/refused: crl_expired \(CRL_HAS_EXPIRED\); hint: a CRL is missing or past its nextUpdate/);
  });
});

/** Runs `task(i)` for i in [0, count), `parallel` at a time. */
async function inParallel(count: number, parallel: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) await task(next++);
  }));
}

/** The i-th of 1,000 loopback addresses outside 127.0.0.0/24: 127.0.1.1 ... 127.0.4.250. */
const floodAddress = (i: number) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;

/**
 * Log blinding: repeated refusals are summarised (one line, then a count per
 * window), and memory stays bounded, but one peer flooding with many
 * addresses or many URLs cannot keep another peer's refusal out of the log;
 * a revoked certificate's refusal is always written.
 */
describe.each(HTTP_ADAPTERS)('%s: one peer cannot blind the log for another', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;

  /** Waits until a log line matching `pattern` appears. */
  async function lineMatching(pattern: RegExp, limitMs = 3000): Promise<string> {
    const start = Date.now();
    for (;;) {
      const line = svc.logs.lines.find((l) => pattern.test(l));
      if (line) return line;
      if (Date.now() - start > limitMs) throw new Error(`no log line ${pattern} within ${limitMs} ms (${svc.logs.lines.length} lines)`);
      await sleep(25);
    }
  }

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('intruder', { subject: 'CN=intruder,O=nest-mtls' });
    svc = await startUserService(pki, { MTLS_CRL_PATH: pki.crlAll }, adapter);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('1,000 no-certificate handshakes from 1,000 loopback addresses; then another peer\'s refusal, and a revoked certificate\'s, are still logged at once', async () => {
    const flood = await handshakesFrom(svc.port, pki.clientTls(), Array.from({ length: 1000 }, (_, i) => floodAddress(i)));
    expect(flood).toMatchObject({ refused: 1000, answered: 0 });
    process.stdout.write(`${adapter}: 1,000 refused handshakes from 1,000 addresses in ${flood.ms} ms\n`);
    expect(await handshakeOutcome(svc.port, { ...pki.clientTls('revoked'), localAddress: '127.0.0.3' })).toBe('refused');
    await lineMatching(/^WARN TLS handshake from 127\.0\.0\.3:\d+ refused: revoked \(CERT_REVOKED\)/);
    expect(await handshakeOutcome(svc.port, { ...pki.clientTls(), localAddress: '127.0.0.2' })).toBe('refused');
    await lineMatching(/^WARN TLS handshake from 127\.0\.0\.2:\d+ refused: no_certificate/);
    // The flood itself: each address's first refusal (they are different peers), nothing lost to them.
    expect(svc.logs.lines.filter((l) => /^WARN TLS handshake from 127\.0\.[1-4]\.\d+:\d+ refused: no_certificate/.test(l)).length).toBe(1000);
  }, 120000);

  it('1,000 distinct URLs refused for one certificate; then another certificate\'s and another host\'s refusals are still logged at once', async () => {
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 8, localAddress: '127.0.0.5' });
    try {
      await inParallel(1000, 8, async (i) => {
        const status = await new Promise<number>((resolve, reject) => {
          const req = httpsRequest({ host: '127.0.0.1', port: svc.port, path: `/users/1?n=${i}`, agent, servername: 'localhost', ...pki.clientTls('event-service') } as never, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end();
        });
        expect(status).toBe(403);
      });
    } finally {
      agent.destroy();
    }
    // Another certificate from another address, and the same certificate from another address: each logged.
    expect((await httpsGet(svc.port, '/users/1?n=victim', { ...pki.clientTls('intruder'), localAddress: '127.0.0.6' })).status).toBe(403);
    await lineMatching(/^WARN 403 GET \/users\/1\?n=victim from 127\.0\.0\.6:\d+: policy refused \(rule subject\): unexpected subject DN CN=intruder,O=nest-mtls$/);
    expect((await httpsGet(svc.port, '/users/1?n=other-host', { ...pki.clientTls('event-service'), localAddress: '127.0.0.7' })).status).toBe(403);
    await lineMatching(/^WARN 403 GET \/users\/1\?n=other-host from 127\.0\.0\.7:\d+: policy refused \(rule subject\): unexpected subject DN CN=event-service,O=nest-mtls$/);
    // And another certificate from the flooding peer's own address.
    expect((await httpsGet(svc.port, '/users/1?n=same-host', { ...pki.clientTls('intruder'), localAddress: '127.0.0.5' })).status).toBe(403);
    await lineMatching(/^WARN 403 GET \/users\/1\?n=same-host from 127\.0\.0\.5:\d+: policy refused \(rule subject\): unexpected subject DN CN=intruder,O=nest-mtls$/);
    // The flooding peer lost only lines of its own (counted in its summary at the end of the window).
    const flooder = svc.logs.lines.filter((l) => /^WARN 403 GET \/users\/1\?n=\d+ from 127\.0\.0\.5:/.test(l));
    expect(flooder.length).toBeGreaterThan(0);
    expect(flooder.length).toBeLessThanOrEqual(16);
  }, 120000);
});
