import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { mtlsOptionsFromEnv } from 'nest-mtls';
import { initPki, issueIntoPki, type PkiLayout } from 'nest-mtls/dev-pki';
import { documentationPages, markedBlocks, sessionSteps, shellVariables, type MarkedBlock } from '../support/doc-examples';
import { requireTool } from '../support/require-tool';
import { freePort, startService, type RunningService } from '../support/spawn-service';
import { handshakeOutcome, httpsGet, run } from '../support/tls-probe';
import { answer, FakeWorkloadApi } from '../support/workload-api-server';
import { waitForValue } from '../support/wait-for';

/**
 * Examples that cannot rot: every code block of README.md and docs/ marked
 * `<!-- runnable: KIND -->` (test/support/doc-examples.ts) is run here as a
 * user would run it: apps compiled with tsc against the built package (the
 * workspace link node_modules/nest-mtls) and started on a development PKI,
 * console sessions executed against the built user-service and compared with
 * the output the page shows, the nginx recipe in a real nginx, the demo's
 * printed output against a real run of scripts/demo.js.
 */
const ROOT = join(__dirname, '..', '..');
const BLOCKS = markedBlocks();
const KINDS = ['app', 'jest', 'session', 'log', 'file', 'kubernetes', 'nginx', 'nginx-service-env', 'demo-output', 'prometheus-rules'];
const of = (kind: string) => BLOCKS.filter((b) => b.kind === kind);
const where = (b: MarkedBlock) => `${b.page}:${b.line}`;

/** A scratch directory inside the repository (git-ignored), so `nest-mtls`, Nest and `npx mtls` resolve as in a project. */
const SCRATCH = join(ROOT, '.scratch');
mkdirSync(SCRATCH, { recursive: true });

/** The dev PKI the docs use (`.dev-pki/` in the working directory), plus nginx's two certificates. */
let work: string;
let pki: PkiLayout;
const started: ChildProcess[] = [];
const services: RunningService[] = [];
const agents: FakeWorkloadApi[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(SCRATCH, 'docs-examples-'));
  pki = await initPki(join(work, '.dev-pki'), { services: ['user-service', 'home-page-service', 'event-service', 'edge'] });
  await issueIntoPki(pki.dir, { name: 'nginx-proxy', subject: 'CN=nginx-proxy,O=Example' });
  compiled = compileApps();
  for (const key of suites.keys()) jestRuns.set(key, runSuite(key));
  // Settled here too, so that a failure is reported by its own test, never as an unhandled rejection.
  compiled.catch(() => undefined);
  for (const r of jestRuns.values()) r.catch(() => undefined);
}, 60000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await Promise.all(agents.map((a) => a.stop()));
  for (const child of started) if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

/** The apps (`app NAME` blocks of a page) and Jest suites (`jest NAME`), by page and name. */
const apps = new Map<string, MarkedBlock[]>();
for (const b of of('app')) apps.set(`${b.page} ${b.arg}`, [...(apps.get(`${b.page} ${b.arg}`) ?? []), b]);
const suites = new Map<string, MarkedBlock[]>();
for (const b of of('jest')) suites.set(`${b.page} ${b.arg}`, [...(suites.get(`${b.page} ${b.arg}`) ?? []), b]);

/** The apps' project: each app in its own directory, compiled by one tsc run (tsc's start and the type-check of Nest's declarations, once). */
const project = () => join(work, 'apps');
const appDir = (key: string) => join(project(), key.replace(/[^\w]+/g, '-'));

async function compileApps(): Promise<string> {
  for (const [key, blocks] of apps) {
    for (const b of blocks) {
      if (!b.file) throw new Error(`${where(b)}: an app block must start with a comment naming its file`);
      mkdirSync(join(appDir(key), b.file, '..'), { recursive: true });
      writeFileSync(join(appDir(key), b.file), b.code);
    }
  }
  // ES-module apps, as `nest new` makes for Nest 12 (the package README's app is one too).
  // skipLibCheck: the apps' own code is checked against the package's declarations; the declarations themselves
  // (with Nest's, skipLibCheck false) are checked where a stranger installs the tarball (packed-package.e2e.spec.ts).
  writeFileSync(join(project(), 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(project(), 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'nodenext', target: 'es2022', moduleResolution: 'nodenext', strict: true, experimentalDecorators: true, emitDecoratorMetadata: true, skipLibCheck: true, outDir: 'dist', rootDir: '.', types: [] }, include: ['*/src'] }),
  );
  const r = await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', project()], { timeoutMs: 240000 });
  return `${r.stdout}${r.stderr}`;
}

/** Writes a Jest suite into a project with the page's Jest config and runs `npx jest` there. */
async function runSuite(key: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const blocks = suites.get(key)!;
  // A fixed place (not the run's temp dir), so Jest's transform cache serves the next run.
  const dir = join(SCRATCH, `jest-${key.replace(/[^\w]+/g, '-')}`);
  rmSync(dir, { recursive: true, force: true });
  for (const b of blocks) {
    if (!b.file) throw new Error(`${where(b)}: a jest block must start with a comment naming its file`);
    mkdirSync(join(dir, b.file, '..'), { recursive: true });
    writeFileSync(join(dir, b.file), b.code);
  }
  // The page's own config line (`echo "module.exports = { preset: 'nest-mtls' };" > jest.config.cjs`).
  const page = readFileSync(join(ROOT, blocks[0].page), 'utf8');
  const config = /^echo "(module\.exports = .*;)" > jest\.config\.cjs$/m.exec(page)?.[1];
  if (!config) throw new Error(`${blocks[0].page}: no \`echo "module.exports = ...;" > jest.config.cjs\` line to take the Jest config from`);
  writeFileSync(join(dir, 'jest.config.cjs'), `${config}\n`);
  const r = await run('sh', ['-c', `cd "$0" && exec env -i PATH="$PATH" HOME="$HOME" node "$1" --ci`, dir, require.resolve('jest/bin/jest')], { timeoutMs: 240000 });
  return r;
}

/** Started at once (they take the longest), awaited by their tests. */
let compiled: Promise<string>;
const jestRuns = new Map<string, Promise<{ code: number; stdout: string; stderr: string }>>();

/** TLS options presenting `caller`'s chain and key (none when undefined), trusting the dev root. */
function as(caller?: string): ConnectionOptions {
  const ca = readFileSync(pki.trustStore);
  if (!caller) return { ca };
  return { ca, cert: readFileSync(join(pki.dir, `${caller}.chain.pem`)), key: readFileSync(join(pki.dir, `${caller}.key`)) };
}

/** Waits until something answers TLS on `port`. */
async function listening(port: number, what: () => string, timeoutMs = 30000): Promise<void> {
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(true)).on('error', () => resolve(false));
      socket.once('connect', () => socket.destroy());
    });
  await waitForValue(accepts, (up) => up, 'a listener', timeoutMs).catch(() => {
    throw new Error(`${what()}: nothing listens on ${port} after ${timeoutMs} ms`);
  });
}

/** user-service as the docs start it: the dev PKI in `.dev-pki/`, plus `env`. */
async function userService(env: Record<string, string> = {}): Promise<{ port: number; admin: number; service: RunningService }> {
  const [port, admin] = await Promise.all([freePort(), freePort()]);
  const service = await startService('user-service', { PORT: String(port), ADMIN_PORT: String(admin), MTLS_DEV_PKI_DIR: pki.dir, ...env }, 60000);
  services.push(service);
  return { port, admin, service };
}

describe('the runnable examples of the docs', () => {
  it('are marked with known kinds, and every kind that is run here is found', () => {
    for (const b of BLOCKS) expect([where(b), KINDS.includes(b.kind)]).toEqual([where(b), true]);
    for (const kind of KINDS) expect([kind, of(kind).length > 0]).toEqual([kind, true]);
  });

  it('every page of getting-started, guides, operations and security has an example that is run here', () => {
    const pages = documentationPages().filter((p) => /^docs\/(getting-started|guides|operations|security)\//.test(p));
    expect(pages.length).toBeGreaterThan(20);
    // `file` blocks only feed a page's sessions: a page needs a block that runs.
    const run = new Set(BLOCKS.filter((b) => b.kind !== 'file').map((b) => b.page));
    expect(pages.filter((p) => !run.has(p))).toEqual([]);
  });

  describe('apps: compiled with tsc against the built package, started, called over mTLS', () => {
    it.each([...apps.keys()])('%s: home-page-service 200 on GET /users, event-service 403, no certificate refused in the handshake, SIGTERM ends it', async (key) => {
      const blocks = apps.get(key)!;
      const dir = appDir(key);
      const name = dir.slice(project().length + 1);
      // tsc names each error's file (`.../NAME/src/x.ts(1,2): error ...`): none of this app's, nor any that names no app file.
      const errors = (await compiled).split('\n').filter((l) => l.trim() && !/^\s/.test(l));
      expect(errors.filter((l) => l.includes(`/${name}/src/`) || !/\/src\/[\w./-]+\.ts\(\d+,\d+\)/.test(l))).toEqual([]);
      const mains = blocks.map((b) => b.file!).filter((f) => /^src\/main[\w-]*\.ts$/.test(f));
      expect(mains.length).toBeGreaterThan(0);
      for (const main of mains) {
        const port = await freePort();
        const child = spawn(process.execPath, [join(project(), 'dist', name, main.replace(/\.ts$/, '.js'))], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', PORT: String(port), MTLS_KEY_STORE_PATH: join(pki.dir, 'user-service.p12'), MTLS_KEY_STORE_PASSWORD: pki.password, MTLS_TRUST_STORE_PATH: pki.trustStore },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr.on('data', (d: Buffer) => (output += d.toString()));
        started.push(child);
        try {
          await listening(port, () => `${key} ${main}: ${output}`);
          const allowed = await httpsGet(port, '/users', as('home-page-service'));
          expect([main, allowed.status, allowed.json]).toEqual([main, 200, expect.objectContaining({ caller: expect.stringMatching(/^CN=home-page-service,/) })]);
          expect([main, (await httpsGet(port, '/users', as('event-service'))).status]).toEqual([main, 403]);
          expect([main, await handshakeOutcome(port, as(), '/users')]).toEqual([main, 'refused']);
          // SIGTERM ends it: exit code 0 where the app shuts down gracefully (enableGracefulShutdown), otherwise by the signal.
          const graceful = blocks.some((b) => b.file === main && /enableGracefulShutdown\(/.test(b.code));
          const exit = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
          child.kill('SIGTERM');
          let timer: NodeJS.Timeout | undefined;
          const [code, signal] = await Promise.race([exit, new Promise<[string, string]>((resolve) => (timer = setTimeout(() => resolve(['still running', 'after 30 s']), 30000)))]);
          clearTimeout(timer);
          expect([main, code, signal, graceful ? code === 0 : code === 0 || signal === 'SIGTERM']).toEqual([main, code, signal, true]);
        } finally {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        }
      }
    }, 240000);
  });

  describe("Jest suites: the blocks of one suite written into a project with the page's Jest config (preset nest-mtls), run by `npx jest`", () => {
    it.each([...suites.keys()])('%s: every test passes', async (key) => {
      const blocks = suites.get(key)!;
      const r = await jestRuns.get(key)!;
      // Every test passed, none skipped, and at least one per `it(` / `it.each(` of the blocks.
      const summary = /^Tests:.*$/m.exec(r.stderr)?.[0] ?? '';
      const counts = /^Tests:\s+(\d+) passed, (\d+) total$/.exec(summary);
      const written = blocks.reduce((n, b) => n + (b.code.match(/^\s*it(\.each)?\(/gm)?.length ?? 0), 0);
      const ok = r.code === 0 && counts !== null && counts[1] === counts[2] && Number(counts[1]) >= written && written > 0;
      expect([key, r.code, summary, ok ? '' : r.stderr.slice(-4000)]).toEqual([key, 0, summary, '']);
    }, 300000);
  });

  describe('console sessions: run against the built user-service on the dev PKI (with the variables of their mark), output as the page shows it', () => {
    const describeCurl = requireTool('curl', 'the console sessions of the docs') ? describe : describe.skip;
    /** Sessions and log blocks, grouped by the service they run against: one service per configuration, shared. */
    const groups = new Map<string, MarkedBlock[]>();
    for (const b of BLOCKS.filter((x) => x.kind === 'session' || x.kind === 'log')) {
      const key = [b.arg ?? '', ...Object.entries(b.env).map(([k, v]) => `${k}=${v}`)].join(' ');
      groups.set(key, [...(groups.get(key) ?? []), b]);
    }
    beforeAll(() => {
      // A terminal's curl: no progress meter, errors shown (what `curl` prints when its output is not redirected).
      writeFileSync(join(work, '.curlrc'), 'silent\nshow-error\n');
      // `node dist/apps/...` as from the repository's root (the demo's services, built).
      symlinkSync(join(ROOT, 'dist'), join(work, 'dist'));
      // The files the pages' sessions read (`<!-- runnable: file -->`).
      for (const b of of('file')) {
        if (!b.file) throw new Error(`${where(b)}: a file block must start with a comment naming its file`);
        writeFileSync(join(work, b.file), b.code.split('\n').slice(1).join('\n'));
      }
    });

    for (const [key, blocks] of groups) {
      const [service, ...settings] = key.split(' ');
      if (service !== 'none' && service !== 'user-service') throw new Error(`${where(blocks[0])}: sessions run against user-service or none, not ${service}`);
      describeCurl(key, () => {
        let ports: { port: number; admin: number; service?: RunningService } = { port: 8443, admin: 8081 };
        /** The ports the page shows (8443, 8081, and any `*_PORT` of the mark) and the free ones used instead. */
        const shownPorts = new Map<string, number>();
        /** Where the service's output stood when the last session began (its log blocks read from there). */
        let since = 0;
        beforeAll(async () => {
          if (service !== 'user-service') return;
          const env: Record<string, string> = {};
          for (const setting of settings) {
            const [name, value] = [setting.slice(0, setting.indexOf('=')), setting.slice(setting.indexOf('=') + 1)];
            env[name] = value;
            if (/_PORT$/.test(name) && /^\d+$/.test(value)) {
              shownPorts.set(value, await freePort());
              env[name] = String(shownPorts.get(value));
            }
          }
          // A Workload API for SPIFFE_ENDPOINT_SOCKET: a test agent serving the dev PKI's SVID of MTLS_SPIFFE_ID (the CAs of the chain and the root as its bundle).
          if (env.SPIFFE_ENDPOINT_SOCKET) {
            const agent = new FakeWorkloadApi(join(work, `agent-${agents.length}.sock`));
            agents.push(agent);
            await agent.start();
            const spiffeId = env.MTLS_SPIFFE_ID ?? 'spiffe://example.org/user-service';
            const name = spiffeId.split('/').pop()!;
            const der = (pem: string) => Buffer.concat((pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((c) => new X509Certificate(c).raw));
            agent.push(
              answer([
                {
                  spiffe_id: spiffeId,
                  x509_svid: der(readFileSync(join(pki.dir, `${name}.chain.pem`), 'utf8')),
                  x509_svid_key: createPrivateKey(readFileSync(join(pki.dir, `${name}.key`))).export({ type: 'pkcs8', format: 'der' }),
                  bundle: der(readFileSync(pki.trustStore, 'utf8')),
                  hint: '',
                },
              ]),
            );
            env.SPIFFE_ENDPOINT_SOCKET = agent.uri;
          }
          ports = await userService(env);
          shownPorts.set('8443', ports.port).set('8081', ports.admin);
        }, 90000);

        it.each(blocks.map((b) => [`${b.kind} ${where(b)}`, b] as const))('%s', async (_, block) => {
          if (block.kind === 'log') {
            // Each line shown is logged, since the session before it began: the line after Nest's `[Nest] PID - DATE` prefix, peers' ports, pids and times aside.
            const shown = block.code.replace(/\n$/, '').split('\n').map(logLine);
            const missing = () => {
              const logged = ports.service!.output().slice(since).split('\n').map(logLine);
              return shown.filter((l) => !logged.some((g) => matches(g, l)));
            };
            await waitForValue(async () => missing(), (m) => m.length === 0, 'the log lines', 30000).catch(() => {
              throw new Error(`${where(block)}: not logged: ${missing().join('\n')}\n--- the log:\n${ports.service!.output().slice(since)}`);
            });
            return;
          }
          since = ports.service?.output().length ?? 0;
          for (const step of sessionSteps(block.code)) {
            const command = step.command.replace(/(127\.0\.0\.1|localhost):(\d+)/g, (all, host: string, port: string) => (shownPorts.has(port) ? `${host}:${shownPorts.get(port)}` : all));
            const r = await run('sh', ['-c', `cd "$0" && export CURL_HOME="$0" PATH="$1/node_modules/.bin:$PATH" && { ${command}; } 2>&1; true`, work, ROOT], { timeoutMs: 60000 });
            const shown = normalise(step.expected.join('\n'));
            const got = normalise(r.stdout.replace(/\n$/, ''));
            const same = shown.split('\n').length === got.split('\n').length && shown.split('\n').every((l, i) => matches(got.split('\n')[i], l));
            expect([where(block), step.command, same ? shown : got]).toEqual([where(block), step.command, shown]);
          }
        }, 120000);
      });
    }

    /** What may differ between machines: curl's OpenSSL version. */
    function normalise(text: string): string {
      return text.replace(/OpenSSL\/\d+\.\d+\.\d+/g, 'OpenSSL/x.y.z');
    }

    /** A line as shown, where `...` stands for any text (a serial, a time, a path). */
    function matches(got: string, shown: string): boolean {
      if (!shown.includes('...')) return got === shown;
      return new RegExp(`^${shown.split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(got);
    }

    /** A log line without what differs between runs: Nest's prefix, peers' ports, pids, times, serials. */
    function logLine(line: string): string {
      return line
        .replace(/\x1b\[[0-9;]*m/g, '')
        .replace(/^\[Nest\] \d+\s+- .*?\s+(LOG|WARN|ERROR|DEBUG|VERBOSE|FATAL)\s+/, '$1 ')
        .replace(/\s+/g, ' ')
        .replace(/(127\.0\.0\.1|localhost|::1\]?):\d+/g, '$1:PORT')
        .replace(/"(pid|timestamp|ms)":\d+/g, '"$1":N')
        .replace(/\+\d+ms$/, '')
        .trim();
    }
  });

  describe('the nginx recipe (docs/guides/behind-a-proxy.md): a real nginx in front of user-service with the forwarded identity', () => {
    const describeNginx = requireTool('nginx', 'the nginx recipe of the docs') ? describe : describe.skip;
    describeNginx('nginx', () => {
      let nginxPort: number;
      let user: { port: number; admin: number };
      beforeAll(async () => {
        const [recipe] = of('nginx');
        const [serviceEnv] = of('nginx-service-env');
        user = await userService(shellVariables(serviceEnv.code));
        nginxPort = await freePort();
        const dir = join(work, 'nginx');
        mkdirSync(join(dir, 'logs'), { recursive: true });
        const server = recipe.code
          .replace(/\/etc\/nginx\/(edge|nginx-proxy)\.chain\.pem/g, (_, n: string) => join(pki.dir, `${n}.chain.pem`))
          .replace(/\/etc\/nginx\/(edge|nginx-proxy)\.key/g, (_, n: string) => join(pki.dir, `${n}.key`))
          .replace(/\/etc\/nginx\/truststore\.pem/g, pki.trustStore)
          .replace(/listen 8443 ssl;/, `listen 127.0.0.1:${nginxPort} ssl;`)
          .replace(/proxy_pass https:\/\/user-service:8443;/, `proxy_pass https://127.0.0.1:${user.port};`);
        expect(server).not.toMatch(/\/etc\/nginx|8443/);
        const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, t)};`).join(' ');
        const conf = `${process.getuid?.() === 0 ? 'user root;\n' : ''}daemon off;\npid ${join(dir, 'nginx.pid')};\nerror_log stderr notice;\nevents {}\nhttp {\naccess_log off;\n${temp}\n${server}}\n`;
        writeFileSync(join(dir, 'nginx.conf'), conf);
        const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let errors = '';
        nginx.stderr.on('data', (d: Buffer) => (errors += d.toString()));
        started.push(nginx);
        await listening(nginxPort, () => `nginx: ${errors}`);
      }, 120000);

      it('home-page-service through nginx: 200, judged as itself (the policy of GET /users/:id admits only CN=home-page-service)', async () => {
        const r = await httpsGet(nginxPort, '/users/1', as('home-page-service'));
        expect([r.status, r.json]).toEqual([200, expect.objectContaining({ id: 1 })]);
      });

      it('event-service through nginx: 403, its own forwarded certificate judged', async () => {
        const r = await httpsGet(nginxPort, '/users/1', as('event-service'));
        expect([r.status, r.json]).toEqual([403, { statusCode: 403, message: 'Certificate subject is not recognized!' }]);
      });

      it("a client that sends its own x-forwarded-client-cert to nginx cannot become another caller (proxy_set_header replaces it)", async () => {
        const forged = `Cert="${encodeURIComponent(readFileSync(join(pki.dir, 'home-page-service.crt'), 'utf8'))}"`;
        const r = await httpsGet(nginxPort, '/users/1', { ...as('event-service'), headers: { 'x-forwarded-client-cert': forged } } as ConnectionOptions);
        expect(r.status).toBe(403);
      });

      it('nginx itself, calling without forwarding (control): judged as CN=nginx-proxy, refused by the policy', async () => {
        const r = await httpsGet(user.port, '/users/1', as('nginx-proxy'));
        expect(r.status).toBe(403);
      });

      it('a client without a certificate never reaches the service: nginx answers 400 itself', async () => {
        const r = await httpsGet(nginxPort, '/users/1', as());
        expect(r.status).toBe(400);
        expect(r.body).toMatch(/No required SSL certificate was sent/);
      });
    });
  });

  describe('Kubernetes manifests: each document validates against its schema (kubernetes-models, @kubernetes-models/cert-manager), and a Deployment reads a Certificate of the block where it mounts its secret', () => {
    it.each(of('kubernetes').map((b) => [where(b), b] as const))('%s', (_, block) => {
      const docs = parseAllDocuments(block.code).map((d) => d.toJS() as { apiVersion: string; kind: string; spec?: any });
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) {
        const models = /^([\w-]+\.)*cert-manager\.io\//.test(doc.apiVersion) ? `@kubernetes-models/cert-manager/${doc.apiVersion}` : `kubernetes-models/${doc.apiVersion}`;
        const Model = (require(models) as Record<string, new (o: unknown) => { validate(): void }>)[doc.kind];
        expect([doc.kind, typeof Model]).toEqual([doc.kind, 'function']);
        expect(() => new Model(doc).validate()).not.toThrow();
      }
      const secrets = new Set(docs.filter((d) => d.kind === 'Certificate').map((d) => d.spec.secretName as string));
      for (const pod of docs.filter((d) => d.kind === 'Deployment').map((d) => d.spec.template.spec)) {
        for (const container of pod.containers) {
          const env = Object.fromEntries((container.env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value ?? '']));
          // Every MTLS_* name is a setting, and the values are read without error (files aside: they are the secret's).
          expect(() => mtlsOptionsFromEnv(env)).not.toThrow();
          for (const [name, path] of Object.entries(env).filter(([n]) => /^MTLS_.*_PATH$/.test(n)) as [string, string][]) {
            const mount = (container.volumeMounts ?? []).find((m: { mountPath: string }) => path.startsWith(`${m.mountPath}/`));
            const volume = mount && pod.volumes.find((v: { name: string }) => v.name === mount.name);
            expect([name, path, volume?.secret?.secretName && secrets.has(volume.secret.secretName)]).toEqual([name, path, true]);
            expect([name, ['tls.crt', 'tls.key', 'ca.crt'].includes(path.slice(mount.mountPath.length + 1))]).toEqual([name, true]);
          }
        }
      }
    });
  });

  it('the Prometheus rules of docs/operations/metrics.md: one or more per metric of its table, naming only metrics and labels the table lists', () => {
    const [rules] = of('prometheus-rules');
    const page = readFileSync(join(ROOT, rules.page), 'utf8');
    const table = new Map(
      page
        .split('\n')
        .map((l) => /^\| `(mtls_\w+)` \|.*$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], m[0]]),
    );
    expect(table.size).toBe(8);
    const parsed = parseYaml(rules.code) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const exprs = parsed.groups.flatMap((g) => g.rules.map((r) => r.expr));
    for (const metric of table.keys()) expect([metric, exprs.some((e) => e.includes(metric))]).toEqual([metric, true]);
    for (const expr of exprs) {
      for (const m of expr.matchAll(/(mtls_\w+)(?:\{([^}]*)\})?/g)) {
        expect([expr, table.has(m[1])]).toEqual([expr, true]);
        for (const label of (m[2] ?? '').split(',').filter(Boolean).map((s) => s.split(/[!=~]/)[0].trim())) {
          expect([expr, label, table.get(m[1])!.includes(`\`${label}\``)]).toEqual([expr, label, true]);
        }
      }
    }
  });

  it("the demo's printed output (docs/getting-started/demo.md) is what a real run of scripts/demo.js prints, ports aside", async () => {
    const [shown] = of('demo-output');
    const defaults: Record<string, number> = { USER_SERVICE_PORT: 8443, USER_SERVICE_TCP_PORT: 8444, HOME_PAGE_PORT: 3000, EVENT_PORT: 3001, USER_SERVICE_ADMIN_PORT: 8081, HOME_PAGE_ADMIN_PORT: 3080, EVENT_ADMIN_PORT: 3081 };
    const ports = Object.fromEntries(await Promise.all(Object.keys(defaults).map(async (k) => [k, await freePort()] as const)));
    const out = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'scripts', 'demo.js')], {
        cwd: ROOT,
        env: { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), MTLS_DEV_PKI_DIR: join(work, 'demo-pki') },
      });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.on('exit', () => resolve(text));
    });
    let printed = out;
    for (const [k, port] of Object.entries(ports)) printed = printed.split(`:${port}/`).join(`:${defaults[k]}/`);
    const lines = printed.split('\n').map((l) => l.trimEnd());
    const first = lines.findIndex((l) => l.startsWith('caller '));
    const expected = shown.code.replace(/\n$/, '').split('\n');
    expect(lines.slice(first, first + expected.length).join('\n')).toBe(expected.join('\n'));
  }, 240000);
});
