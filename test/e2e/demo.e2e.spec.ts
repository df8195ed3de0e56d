import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childBaseEnv, freePort, serviceMain } from '../support/spawn-service';
import { HTTP_ADAPTERS } from '../support/start-app';
import { run } from '../support/tls-probe';

const ROOT = join(__dirname, '..', '..');


function httpGet(port: number): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 15000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A warning Node prints on a process's stderr: `(node:PID) [DEP0005] DeprecationWarning: ...`,
 * `(node:PID) Warning: ...`. Deprecations differ between Node releases: none may come from our code
 * or our dependencies on the Node that runs the tests.
 */
const NODE_WARNING = /\(node:\d+\) (\[\w+\] )?\w*Warning: .*/;

/** The demo as a user runs it, and the demo services' answers when their upstream is gone. */
describe('demo', () => {
  const pkiDir = mkdtempSync(join(tmpdir(), 'nest-mtls-demo-'));
  afterAll(() => rmSync(pkiDir, { recursive: true, force: true }));

  it.each(HTTP_ADAPTERS)('npm run demo, user-service on %s (HTTP_ADAPTER): allowed 200, blocked 403, no certificate and plain HTTP refused, the same over TCP, WebSocket and gRPC, the admin ports and the metrics they moved; exits 0', async (adapter) => {
    const [user, userTcp, userGrpc, home, event, userAdmin, homeAdmin, eventAdmin] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'scripts', 'demo.js')], {
        cwd: ROOT,
        env: {
          ...process.env,
          HTTP_ADAPTER: adapter,
          USER_SERVICE_PORT: String(user),
          USER_SERVICE_TCP_PORT: String(userTcp),
          USER_SERVICE_GRPC_PORT: String(userGrpc),
          HOME_PAGE_PORT: String(home),
          EVENT_PORT: String(event),
          USER_SERVICE_ADMIN_PORT: String(userAdmin),
          HOME_PAGE_ADMIN_PORT: String(homeAdmin),
          EVENT_ADMIN_PORT: String(eventAdmin),
          MTLS_DEV_PKI_DIR: join(pkiDir, 'pki'),
          DEMO_VERBOSE: '1', // the services' own output too, for the warnings below
        },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      child.on('exit', (code) => resolve({ code, out }));
    });
    expect(r.out).toMatch(/home-page-service\s+user-service GET \/users\/1\s+200\s+200\s+yes/);
    expect(r.out).toMatch(/home-page-service\s+user-service GET \/users\s+200\s+200\s+yes/);
    expect(r.out).toMatch(/event-service\s+user-service GET \/users\/1\s+403\s+403\s+yes/);
    expect(r.out).toMatch(/\(no certificate\)\s+user-service GET \/health\s+refused\s+refused\s+yes/);
    expect(r.out).toMatch(/home-page-service\s+user-service TCP get_user\s+user 1\s+user 1\s+yes/);
    expect(r.out).toMatch(/event-service\s+user-service TCP get_user\s+RPC error\s+RPC error\s+yes/);
    expect(r.out).toMatch(/\(no certificate\)\s+user-service TCP get_user\s+refused\s+refused\s+yes/);
    expect(r.out).toMatch(/home-page-service\s+user-service wss get_user\s+user 1\s+user 1\s+yes/);
    expect(r.out).toMatch(/event-service\s+user-service wss get_user\s+ws error\s+ws error\s+yes/);
    expect(r.out).toMatch(/home-page-service\s+user-service gRPC GetUser\s+user 1\s+user 1\s+yes/);
    expect(r.out).toMatch(/event-service\s+user-service gRPC GetUser\s+PERMISSION_DENIED\s+PERMISSION_DENIED\s+yes/);
    expect(r.out).toMatch(/all calls as expected/);
    expect(r.out).toContain(`user-service       http://127.0.0.1:${userAdmin}/health (ok)  http://127.0.0.1:${userAdmin}/metrics`);
    expect(r.out).toContain(`home-page-service  http://127.0.0.1:${homeAdmin}/health (ok)`);
    expect(r.out).toContain(`event-service      http://127.0.0.1:${eventAdmin}/health (ok)`);
    const moved = r.out.slice(r.out.indexOf('the samples these calls moved:')).split('\n').slice(1).filter((l) => l.startsWith('  mtls_')).map((l) => l.trim());
    expect(moved.sort()).toEqual(
      [
        'mtls_guard_decisions_total{route="/users",outcome="allowed"} 1',
        'mtls_guard_decisions_total{route="/users.UserService/GetUser",outcome="allowed"} 1',
        'mtls_guard_decisions_total{route="/users.UserService/GetUser",outcome="refused"} 1',
        'mtls_guard_decisions_total{route="/users/:id",outcome="allowed"} 1',
        'mtls_guard_decisions_total{route="/users/:id",outcome="refused"} 1',
        'mtls_guard_decisions_total{route="get_user",outcome="allowed"} 1',
        'mtls_guard_decisions_total{route="get_user",outcome="refused"} 1',
        'mtls_guard_decisions_total{route="{\\"cmd\\":\\"get_user\\"}",outcome="allowed"} 1',
        'mtls_guard_decisions_total{route="{\\"cmd\\":\\"get_user\\"}",outcome="refused"} 1',
        'mtls_handshake_failures_total{reason="no_certificate"} 2',
        'mtls_handshake_failures_total{reason="protocol"} 1',
      ].sort(),
    );
    expect(r.out).not.toMatch(/METRICS NOT AS EXPECTED/);
    expect(r.out).toContain('--- user-service output ---');
    expect(r.out.match(NODE_WARNING)?.[0]).toBeUndefined(); // e.g. a deprecation on this Node release
    expect(r.code).toBe(0);
  }, 180000);

  it("the warning check sees Node's warnings (control: a deprecation emitted on purpose)", async () => {
    const r = await run(process.execPath, ['-e', "process.emitWarning('old API', 'DeprecationWarning', 'DEP0000')"]);
    expect(r.stderr.match(NODE_WARNING)?.[0]).toMatch(/^\(node:\d+\) \[DEP0000\] DeprecationWarning: old API$/);
  });

  it.each([
    ['home-page-service', /text\/html/, /502 Bad Gateway[\s\S]*user-service[\s\S]*unreachable \(ECONNREFUSED\)/],
    ['event-service', /application\/json/, /"statusCode":502.*"kind":"unreachable"/],
  ])('%s answers 502 saying why when user-service is down (never a hang)', async (app, type, body) => {
    const [port, down] = await Promise.all([freePort(), freePort()]);
    const child = spawn(process.execPath, [serviceMain(app)], {
      cwd: ROOT,
      env: { ...childBaseEnv(), HOST: '127.0.0.1', PORT: String(port), USER_SERVICE_URL: `https://localhost:${down}`, MTLS_DEV_PKI_DIR: join(pkiDir, 'pki') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          if (/listening on/.test(out)) resolve();
        });
        child.on('exit', (code) => reject(new Error(`${app} exited with ${code}: ${out}`)));
      });
      const res = await httpGet(port);
      expect(res.status).toBe(502);
      expect(res.type).toMatch(type);
      expect(res.body).toMatch(body);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('mtls inspect prints the subject the guard matches, equal to openssl', async () => {
    const cert = join(pkiDir, 'pki', 'home-page-service.crt');
    const ours = await run(process.execPath, [join(ROOT, 'libs', 'mtls', 'bin', 'mtls.js'), 'inspect', cert]);
    expect(ours.code).toBe(0);
    expect(ours.stdout.split('\n')[0]).toBe('subject: CN=home-page-service,O=nest-mtls');
    const openssl = await run('openssl', ['x509', '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb', '-in', cert]);
    if (openssl.code === 0) expect(ours.stdout.split('\n')[0]).toBe(openssl.stdout.trim().replace(/^subject=/, 'subject: '));
  });
});
