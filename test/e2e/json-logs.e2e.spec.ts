import { createPrivateKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { adminGet } from '../support/admin-app';
import { freePort, startService, type RunningService } from '../support/spawn-service';
import { HTTP_ADAPTERS } from '../support/start-app';
import { rawRpc } from '../support/start-microservice';
import { TempDir, TestPki } from '../support/test-pki';
import { handshakeOutcome, httpsGet, plainHttpExchange } from '../support/tls-probe';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PASSPHRASE = 'Pa55phrase-that-must-never-be-logged';

/** Polls `output()` until `pattern` shows up (or `limitMs` passes). */
async function waitForOutput(service: RunningService, pattern: RegExp, limitMs = 5000): Promise<void> {
  const start = Date.now();
  while (!pattern.test(service.output())) {
    if (Date.now() - start > limitMs) throw new Error(`no ${pattern} in the output within ${limitMs} ms:\n${service.output()}`);
    await sleep(50);
  }
}

/**
 * LOG_FORMAT=json on the real user-service, spawned with an encrypted key:
 * every line it writes is one JSON object; refusals (TLS and guard, HTTPS and
 * TCP) carry reason, peer, subject and route as fields; peer-supplied text
 * stays escaped; no line holds key material, the passphrase or a policy.
 * The default stays human-readable.
 */
describe('LOG_FORMAT=json', () => {
  let pki: TestPki;
  let files: TempDir;
  let env: Record<string, string>;

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('bidi', { subject: 'CN=evil\u202egnp.exe,O=nest-mtls' });
    files = new TempDir('nest-mtls-json-logs-');
    const us = pki.certs['user-service'].issued;
    const encryptedKey = createPrivateKey(us.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }) as string;
    env = {
      MTLS_CERT_PATH: files.write('tls.crt', us.chainPem),
      MTLS_KEY_PATH: files.write('tls.key', encryptedKey),
      MTLS_KEY_PASSPHRASE: PASSPHRASE,
      MTLS_TRUST_STORE_PATH: pki.trustStore,
    };
  });

  afterAll(() => {
    files?.cleanup();
    pki?.cleanup();
  });

  it.each(HTTP_ADAPTERS)('user-service on %s: writes one JSON object per line, refusals with their fields, and nothing secret', async (adapter) => {
    const [port, tcpPort, adminPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const service = await startService('user-service', { ...env, HTTP_ADAPTER: adapter, LOG_FORMAT: 'json', PORT: String(port), TCP_PORT: String(tcpPort), ADMIN_PORT: String(adminPort) });
    try {
      expect(await handshakeOutcome(port, pki.clientTls(), '/users/1')).toBe('refused');
      await plainHttpExchange(port);
      expect((await httpsGet(port, '/users/1', pki.clientTls('event-service'))).status).toBe(403);
      expect((await httpsGet(port, '/users/1', pki.clientTls('bidi'))).status).toBe(403);
      expect(await rawRpc(tcpPort, pki.clientTls('event-service'), { cmd: 'get_user' }, { id: 1 })).toMatchObject({ answer: { err: { status: 'error' } } });
      // A broken certificate file: the reload fails (and /health says so), then the good one comes back.
      writeFileSync(files.path('tls.crt'), 'not a certificate');
      await waitForOutput(service, /"event":"material_reloaded","result":"failure"/);
      expect((await adminGet(adminPort, '/health')).status).toBe(503);
      // Back to exactly the certificate still served: nothing to reload, and the failure is over.
      writeFileSync(files.path('tls.crt'), pki.certs['user-service'].issued.chainPem);
      await waitForOutput(service, /"event":"material_reloaded","result":"unchanged"/);
      expect((await adminGet(adminPort, '/health')).status).toBe(200);
    } finally {
      await service.stop();
    }

    const lines = service.output().split('\n').filter((l) => l.length > 0);
    const records = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${line}`);
      }
    });
    for (const r of records) {
      expect(typeof r.level).toBe('string');
      expect(typeof r.message).toBe('string');
      expect(typeof r.timestamp).toBe('number');
    }
    expect(records.find((r) => /listening on https:\/\/localhost/.test(String(r.message)))).toMatchObject({ level: 'log', context: 'user-service' });

    const tls = records.filter((r) => r.event === 'tls_refused');
    expect(tls.map((r) => r.reason)).toEqual(['no_certificate', 'protocol']);
    expect(tls[0]).toMatchObject({ level: 'warn', context: 'MtlsServer', stage: 'handshake', detail: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' });
    expect(tls[0].peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(tls[0].message).toMatch(/^TLS handshake from 127\.0\.0\.1:\d+ refused: no_certificate/);

    const guard = records.filter((r) => r.event === 'guard_refused');
    expect(guard.map(({ reason, rule, route, subject }) => ({ reason, rule, route, subject }))).toEqual([
      { reason: 'policy', rule: 'subject', route: '/users/:id', subject: 'CN=event-service,O=nest-mtls' },
      { reason: 'policy', rule: 'subject', route: '/users/:id', subject: 'CN=evil\\u202egnp.exe,O=nest-mtls' }, // escaped, as in the text line
      { reason: 'policy', rule: 'subject', route: '{"cmd":"get_user"}', subject: 'CN=event-service,O=nest-mtls' },
    ]);
    // The message says why: the rule and what was found (escaped as everywhere), never what the rule wanted.
    expect(guard[1].message).toMatch(/: policy refused \(rule subject\): unexpected subject DN CN=evil\\u202egnp\.exe,O=nest-mtls$/);
    for (const r of guard) expect(r.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(guard[0]).toMatchObject({ level: 'warn', context: 'ClientCertGuard' });

    expect(records.find((r) => r.event === 'material_reloaded' && r.result === 'failure')).toMatchObject({ level: 'error', context: 'MtlsModule', generation: 1 });
    expect(records.find((r) => r.event === 'material_reloaded' && r.result === 'unchanged')).toMatchObject({ level: 'log', generation: 1 });
    expect(records.filter((r) => r.event === 'health_changed').map(({ level, status, down }) => ({ level, status, down }))).toEqual([
      { level: 'warn', status: 'error', down: 'reload' },
      { level: 'log', status: 'ok', down: undefined },
    ]);
    expect(records.filter((r) => String(r.event).startsWith('shutdown_')).map((r) => r.event)).toEqual(['shutdown_started', 'shutdown_drained', 'shutdown_done']);

    const all = service.output();
    expect(all).not.toContain(PASSPHRASE);
    expect(all).not.toContain('PRIVATE KEY');
    expect(all).not.toContain(pki.certs['user-service'].issued.keyPem.split('\n')[1]);
    expect(all).not.toContain('home-page-service(,|$)');
    expect(all).not.toContain('\u202e'); // a peer cannot reorder a line
  }, 60000);

  it('stays human-readable by default: the same refusal is one plain line, without the fields', async () => {
    const service = await startService('user-service', { ...env, PORT: String(await freePort()) });
    try {
      const port = Number(/https:\/\/localhost:(\d+)/.exec(service.output())![1]);
      expect(await handshakeOutcome(port, pki.clientTls(), '/users/1')).toBe('refused');
      await waitForOutput(service, /refused: no_certificate/);
    } finally {
      await service.stop();
    }
    const line = service.output().replace(/\x1b\[[0-9;]*m/g, '').split('\n').find((l) => /refused: no_certificate/.test(l))!;
    expect(line).toMatch(/WARN \[MtlsServer\] TLS handshake from 127\.0\.0\.1:\d+ refused: no_certificate \(ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE\); hint: the client sent no certificate: configure its client certificate and key$/);
    expect(() => JSON.parse(line)).toThrow();
  }, 60000);

  it('a configuration error at startup is one JSON line too', async () => {
    const { runService } = await import('../support/spawn-service');
    const run = await runService('user-service', { ...env, LOG_FORMAT: 'json', MTLS_KEY_PASSPHRASE: 'wrong' });
    expect(run.code).toBe(1);
    expect(run.listened).toBe(false);
    const last = JSON.parse(run.stderr.trim().split('\n').pop()!);
    expect(last).toMatchObject({ level: 'fatal', event: 'startup_failed', context: 'user-service', setting: 'keyPassphrase', variable: 'MTLS_KEY_PASSPHRASE' });
    expect(run.stderr + run.stdout).not.toContain('wrong"'); // the wrong passphrase is not repeated either
  }, 60000);
});
