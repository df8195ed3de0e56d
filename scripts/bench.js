#!/usr/bin/env node
'use strict';
/*
 * npm run bench: nest-mtls's user-service on Express and on Fastify vs Node's
 * bare https server, same certificates, same route, same load generator,
 * interleaved rounds; prints medians, spreads and ratios, then measures a
 * reload of the material under load, and writes docs/benchmark.md. A
 * benchmark, not a test: it exits non-zero only when something crashes.
 *
 *   A  user-service as built (dist/), HTTP_ADAPTER=express, MTLS_KEY_STORE_PATH etc. from a dev PKI made now
 *   F  the same user-service with HTTP_ADAPTER=fastify
 *   B  bench/bare-server.js: https.createServer, same key/chain/trust, hand-written CN check
 *   T  bench/nest-fastify-server.js: Nest + plain FastifyAdapter over https, no nest-mtls, a guard with
 *      the hand-written CN check (the issue's throwaway app): keep-alive only, to split the Fastify gap
 *      into Nest + Fastify's part and nest-mtls's
 *   X  bench/nest-express-server.js: the same plain Nest app on the plain ExpressAdapter (keep-alive only)
 *   N  an nginx mTLS sidecar (bench/nginx-sidecar.js: nginx-light, 1 worker, installed when missing) in front
 *      of the plain Nest + Fastify app over plain HTTP on loopback; its CPU is nginx's plus the app's
 *   generator  bench/load-generator.js, its own process (each gets one core: taskset)
 *   reload under load  bench/reload-under-load.js: full handshakes per 250 ms around a SIGHUP
 *                      reload of changed files, PEM and PKCS#12 material, both adapters
 *
 * Env:
 *   BENCH_SECONDS           measured seconds per run (default 3; 1 for a quick check)
 *   BENCH_ROUNDS            interleaved rounds (default 5)
 *   BENCH_WARMUP_SECONDS    unmeasured warm-up per server and mode (default min(2, BENCH_SECONDS))
 *   BENCH_KEEPALIVE_CONNECTIONS  (16)   BENCH_HANDSHAKE_CONCURRENCY  (8)
 *   BENCH_CRL=1             give both servers the PKI's CRLs (default: no CRL for either)
 *   BENCH_PIN=0             do not pin servers and generator to separate CPUs
 *   BENCH_NO_DOC=1          do not write docs/benchmark.md
 *   BENCH_REVOCATION=0      skip the revocation part (bench/revocation.js: a 100,000-entry CRL, OCSP)
 *   BENCH_RELOAD=0          skip the reload-under-load runs
 *   BENCH_NGINX=0           skip the nginx sidecar (N)
 *   BENCH_ONLY=keepalive    only the keep-alive runs of every server, printed, no doc (to iterate on the request path)
 */
const { execFileSync } = require('node:child_process');
const { appendFileSync, mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const processes = require('../bench/processes');
const { GeneratorClient } = require('../bench/generator-client');
const report = require('../bench/report');
const { measureCryptoCost } = require('../bench/crypto-cost');
const { measureIdentityCost } = require('../bench/identity-cost');
const { runRevocationBench } = require('../bench/revocation');
const { measureGuardCost } = require('../bench/guard-cost');
const { measureReloadUnderLoad, reloadTable, reloadReading } = require('../bench/reload-under-load');
const { measurePerRequestWork, perRequestWorkTable } = require('../bench/per-request-work');

const root = path.join(__dirname, '..');
const USER_SERVICE_MAIN = path.join(root, 'dist/apps/user-service/apps/user-service/src/main.js');
const DEV_PKI = path.join(root, 'libs/mtls/dist/dev-pki/index.js');
const LIBRARY_INDEX = path.join(root, 'libs/mtls/dist/index.js');
const BARE_SERVER = path.join(root, 'bench/bare-server.js');
const NEST_FASTIFY_SERVER = path.join(root, 'bench/nest-fastify-server.js');
const NEST_EXPRESS_SERVER = path.join(root, 'bench/nest-express-server.js');
const { ensureNginx, startNginxSidecar } = require('../bench/nginx-sidecar');
const GENERATOR = path.join(root, 'bench/load-generator.js');
const DOC = path.join(root, 'docs/benchmark.md');

function numberSetting(name, fallback, { min = 0, max = Infinity } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name}: expected a number from ${min} to ${max}, got "${raw}"`);
  return value;
}

const settings = {
  seconds: numberSetting('BENCH_SECONDS', 3, { min: 0.5, max: 60 }),
  rounds: Math.round(numberSetting('BENCH_ROUNDS', 5, { min: 1, max: 20 })),
  keepAliveConnections: Math.round(numberSetting('BENCH_KEEPALIVE_CONNECTIONS', 16, { min: 1, max: 256 })),
  handshakeConcurrency: Math.round(numberSetting('BENCH_HANDSHAKE_CONCURRENCY', 8, { min: 1, max: 256 })),
  crl: process.env.BENCH_CRL === '1',
  reload: process.env.BENCH_RELOAD !== '0' && process.env.BENCH_ONLY !== 'keepalive',
  nginx: process.env.BENCH_NGINX !== '0',
  keepAliveOnly: process.env.BENCH_ONLY === 'keepalive',
};
if (process.env.BENCH_ONLY !== undefined && process.env.BENCH_ONLY !== '' && !settings.keepAliveOnly) {
  throw new Error(`BENCH_ONLY: expected "keepalive", got "${process.env.BENCH_ONLY}"`);
}
settings.warmupSeconds = numberSetting('BENCH_WARMUP_SECONDS', Math.min(2, settings.seconds), { min: 0.5, max: 60 });

let tmpDir = null;
let cleaningUp = null;

function cleanup() {
  if (!cleaningUp) {
    cleaningUp = processes.killAll().then(() => {
      if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
      tmpDir = null;
    });
  }
  return cleaningUp;
}

process.on('exit', () => {
  processes.killAllNow();
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping child processes`);
    cleanup().finally(() => process.exit(130));
  });
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: `${cpus[0] ? cpus[0].model.trim() : 'unknown'} × ${cpus.length}`,
    node: process.version,
    openssl: process.versions.openssl,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

function ensureBuilt() {
  console.log('bench: node scripts/ensure-built.js');
  try {
    execFileSync(process.execPath, [path.join(root, 'scripts/ensure-built.js')], { cwd: root, stdio: 'inherit' });
  } catch {
    throw new Error('scripts/ensure-built.js failed: the monorepo does not build (compiler output above), so user-service cannot be benchmarked');
  }
  for (const file of [USER_SERVICE_MAIN, DEV_PKI]) if (!existsSync(file)) throw new Error(`${path.relative(root, file)} is missing after the build`);
}

/** Environment for a child: ours minus every MTLS_* variable, plus `extra`. */
function childEnv(extra) {
  const env = { ...process.env, NODE_ENV: 'production' };
  for (const key of Object.keys(env)) if (key.startsWith('MTLS_') || key.startsWith('BARE_')) delete env[key];
  return { ...env, ...extra };
}

/** The servers under test, by side: the two user-service adapters and bare Node. */
const SIDES = {
  A: { label: 'nest-mtls Express', short: 'Express' },
  F: { label: 'nest-mtls Fastify', short: 'Fastify' },
  B: { label: 'bare Node', short: 'bare' },
  T: { label: 'Nest + Fastify without nest-mtls', short: 'N+F ref' },
  X: { label: 'Nest + Express without nest-mtls', short: 'N+E ref' },
  N: { label: 'nginx sidecar + Nest + Fastify', short: 'nginx' },
};

/** Starts user-service with `HTTP_ADAPTER=adapter` (pinned to CPU 1) with `extraEnv` (and `nodeArgs`); resolves once it listens. */
async function startUserService(name, adapter, extraEnv, logName, nodeArgs = []) {
  const port = await processes.freePort();
  const child = processes.startServer({
    name,
    script: USER_SERVICE_MAIN,
    cwd: root,
    logFile: path.join(tmpDir, logName),
    cpu: 1,
    nodeArgs,
    env: childEnv({ PORT: String(port), HOST: '127.0.0.1', HTTP_ADAPTER: adapter, ...extraEnv }),
  });
  await processes.waitForReady(child, /listening on/, 60000);
  return { child, port };
}

async function startServers(pki) {
  const user = pki.service('user-service');
  const material = {
    MTLS_KEY_STORE_PATH: user.p12,
    MTLS_KEY_STORE_PASSWORD: pki.password,
    MTLS_TRUST_STORE_PATH: pki.trustStore,
    ...(settings.crl ? { MTLS_CRL_PATH: pki.crl } : {}),
  };
  const portB = await processes.freePort();
  const b = processes.startServer({
    name: 'bare Node server',
    script: BARE_SERVER,
    cwd: root,
    logFile: path.join(tmpDir, 'bare-server.log'),
    cpu: 1,
    env: childEnv({
      PORT: String(portB),
      HOST: '127.0.0.1',
      BARE_KEY: user.key,
      BARE_CERT: user.chain,
      BARE_CA: pki.trustStore,
      ...(settings.crl ? { BARE_CRL: pki.crl } : {}),
    }),
  });
  /** A plain Nest reference server (no nest-mtls) on user-service's key, chain and trust store. */
  const startReference = async (name, script) => {
    const port = await processes.freePort();
    const server = processes.startServer({
      name,
      script,
      cwd: root,
      logFile: path.join(tmpDir, `${path.basename(script, '.js')}.log`),
      cpu: 1,
      env: childEnv({ PORT: String(port), HOST: '127.0.0.1', BARE_KEY: user.key, BARE_CERT: user.chain, BARE_CA: pki.trustStore }),
    });
    return [port, server];
  };
  const [portT, t] = await startReference('Nest + Fastify reference server', NEST_FASTIFY_SERVER);
  const [portX, x] = await startReference('Nest + Express reference server', NEST_EXPRESS_SERVER);
  const sidecar = settings.nginx ? await startNginxSidecar({ nginx: ensureNginx(), tmpDir, root, cpu: 1, pki, env: childEnv({}) }) : null;
  const [A, F] = await Promise.all([
    startUserService('nest-mtls user-service (Express)', 'express', material, 'user-service-express.log'),
    startUserService('nest-mtls user-service (Fastify)', 'fastify', material, 'user-service-fastify.log'),
    processes.waitForReady(b, /listening on/, 20000),
    processes.waitForReady(t, /listening on/, 60000),
    processes.waitForReady(x, /listening on/, 60000),
  ]);
  const servers = { A, F, B: { child: b, port: portB }, T: { child: t, port: portT }, X: { child: x, port: portX } };
  if (sidecar) servers.N = { child: sidecar.nginx, port: sidecar.port, pids: sidecar.pids, app: sidecar.child };
  return servers;
}

const RUNS = {
  keepalive: (s) => ({ mode: 'keepalive', concurrency: s.keepAliveConnections }),
  full: (s) => ({ mode: 'full', concurrency: s.handshakeConcurrency }),
  resumed: (s) => ({ mode: 'resumed', concurrency: s.handshakeConcurrency }),
};

async function measure(generator, servers, side, kind, urlPath, seconds) {
  const server = servers[side];
  if (server.child.exitCode !== null || server.child.signalCode !== null) {
    throw new Error(`${server.child.benchName} has exited:\n${processes.tail(processes.logOf(server.child))}`);
  }
  if (server.app && (server.app.exitCode !== null || server.app.signalCode !== null)) {
    throw new Error(`${server.app.benchName} has exited:\n${processes.tail(processes.logOf(server.app))}`);
  }
  return generator.run({ ...RUNS[kind](settings), port: server.port, path: urlPath, seconds, serverPid: server.pids ?? server.child.pid });
}

/**
 * The plan of one round. Order alternates between rounds (A, X, B, T, F, N
 * then the reverse) so drift of the machine does not favour one side, and
 * bare Node (B) runs between the two adapters; each plain reference runs
 * next to its adapter's neighbours. Each Nest app's keep-alive /users/1 run
 * sits next to its /health run. The plain references (T, X) run keep-alive
 * only; the nginx sidecar (N) every mode on /users/1.
 */
function roundPlan(round, sides) {
  const even = round % 2 === 0;
  const order = (even ? ['A', 'X', 'B', 'T', 'F', 'N'] : ['N', 'F', 'T', 'B', 'X', 'A']).filter((side) => sides.includes(side));
  const keepAlive = order.flatMap((side) => {
    if (side === 'B' || side === 'N') return [[side, 'keepalive', '/users/1']];
    const pair = [[side, 'keepalive', '/health'], [side, 'keepalive', '/users/1']];
    return side === order[0] ? pair : pair.reverse();
  });
  if (settings.keepAliveOnly) return keepAlive;
  const each = (kind) => order.filter((side) => side !== 'T' && side !== 'X').map((side) => [side, kind, '/users/1']);
  return [...keepAlive, ...each('full'), ...each('resumed')];
}

function describe(r) {
  const extra = [];
  if (r.reused) extra.push(`resumed ${Math.round((100 * r.reused) / r.connections)}%`);
  const bad = Object.entries(r.statuses).filter(([s]) => s !== '200');
  if (bad.length) extra.push(`non-200: ${bad.map(([s, n]) => `${s}×${n}`).join(' ')}`);
  if (r.errorCount) extra.push(`errors: ${Object.entries(r.errors).map(([e, n]) => `${e}×${n}`).join(' ')}`);
  const cpu = r.serverCpuShare === null ? '' : ` server CPU ${Math.round(r.serverCpuShare * 100)}%`;
  return `${Math.round(r.rate).toLocaleString('en-US').padStart(7)}/s${cpu}, generator CPU ${Math.round(r.clientCpuShare * 100)}%${extra.length ? ', ' + extra.join(', ') : ''}`;
}

function writeDoc({ startedAt, host, tables, alternatives, diagnostics, reading, negotiated, durationS, reload, workTable }) {
  const command = [
    process.env.BENCH_SECONDS ? `BENCH_SECONDS=${process.env.BENCH_SECONDS}` : null,
    process.env.BENCH_ROUNDS ? `BENCH_ROUNDS=${process.env.BENCH_ROUNDS}` : null,
    settings.crl ? 'BENCH_CRL=1' : null,
    'npm run bench',
  ]
    .filter(Boolean)
    .join(' ');
  const reloadSection = reload
    ? `## Reload under load

Full handshakes per 250 ms window while user-service reloads changed files on SIGHUP (\`MTLS_WATCH=false\`), each adapter,
PEM files and PKCS#12 stores (decoded with node-forge, on the event loop; their PBKDF2 runs in Node's crypto). A fresh service
per run, pinned to CPU 1, after a 2 s warm-up.

${reload.table}

${reload.reading}
`
    : '## Reload under load\n\nNot measured in this run (`BENCH_RELOAD=0`).\n';
  const doc = `# Benchmark: nest-mtls on Express and Fastify vs bare Node https

Generated by \`${command}\` (scripts/bench.js) on ${startedAt.toISOString()} in ${durationS} s.
Quick check: \`BENCH_SECONDS=1 BENCH_ROUNDS=1 npm run bench\` (same tables, noisier numbers).

Machine: ${host.cpu}; Node ${host.node}; OpenSSL ${host.openssl}; ${host.platform}; load average at start ${host.load}.
Negotiated: ${negotiated}. Certificates: a dev PKI made at bench time (\`initPki\`, EC P-256: root CA -> global CA -> leaf), ${
    settings.crl ? 'CRLs given to every server' : 'no CRL for any server'
  }.

## Setup

- **nest-mtls Express / Fastify**: the built user-service (\`dist/apps/user-service/.../main.js\`) with \`HTTP_ADAPTER=express\`
  (MtlsExpressAdapter) or \`HTTP_ADAPTER=fastify\` (MtlsFastifyAdapter), \`NODE_ENV=production\`, material from
  \`MTLS_KEY_STORE_PATH\` (user-service.p12), \`MTLS_KEY_STORE_PASSWORD\`, \`MTLS_TRUST_STORE_PATH\` (truststore.pem).
  \`GET /users/1\` is behind \`@RequireClientCert(/^CN=home-page-service(,|$)/)\` with ParseIntPipe and \`@ClientCert('subject')\`;
  \`GET /health\` accepts any verified certificate. Both run the real ClientCertGuard, identity and policy. The users controller's
  per-read line is at debug level, off unless \`LOG_LEVEL=debug\`; the service's stdout goes to a log file.
- **Nest + Fastify without nest-mtls** (keep-alive only): \`bench/nest-fastify-server.js\`, Nest on the plain FastifyAdapter
  with the same https options, a guard doing bare Node's subject check (cached per connection) and ParseIntPipe on
  \`GET /users/:id\`, an unguarded \`GET /health\`: the issue's throwaway app. Whatever user-service on MtlsFastifyAdapter costs
  beyond it is nest-mtls's (and user-service's controller: the \`@ClientCert\` parameter, the debug line).
- **Nest + Express without nest-mtls** (keep-alive only): \`bench/nest-express-server.js\`, the same plain app
  (\`bench/nest-reference-app.js\`) on Nest's plain ExpressAdapter, \`x-powered-by\` off as MtlsExpressAdapter has it.
- **nginx sidecar**: ${settings.nginx ? `nginx (\`bench/nginx-sidecar.js\`; nginx-light from apt, installed by the bench when missing), 1 worker,
  terminating mTLS with user-service's key, chain and trust store (\`ssl_verify_client on\`, TLS 1.2–1.3, session tickets on),
  passing \`$ssl_client_s_dn\` in a header over plain HTTP on loopback with kept-alive upstream connections to the plain
  Nest + Fastify app (\`REFERENCE_PLAIN_HTTP=1\`: its guard matches the forwarded subject against the same anchored regex, per
  request). nginx and the app share CPU 1; the server CPU counted is nginx's master and worker plus the app's.` : 'not run (`BENCH_NGINX=0`).'}
- **bare Node**: \`bench/bare-server.js\`, \`https.createServer\` with the same key, chain and trust store, \`requestCert\`,
  \`rejectUnauthorized\`, TLS 1.2–1.3; \`/users/1\` checks \`getPeerCertificate().subject.CN === 'home-page-service'\` once per
  connection (cached on the socket, as nest-mtls caches the identity) and answers the same JSON; no logging.
- **Load generator**: \`bench/load-generator.js\`, its own process, raw TLS sockets with a minimal HTTP/1.1 reader and one
  shared secure context (home-page-service's key + chain, trust store as CA). Servers pinned to CPU 1, generator to CPU 0
  (${processes.taskset() ? 'taskset' : 'not pinned: no taskset or BENCH_PIN=0'}).
  - keep-alive: ${settings.keepAliveConnections} kept-alive connections, one request in flight on each;
  - full handshakes: a new connection per request (\`Connection: close\`), no session offered, ${settings.handshakeConcurrency} concurrent;
  - resumed handshakes: the same, offering the newest TLS 1.3 ticket the worker received; \`isSessionReused()\` is counted.
- ${settings.rounds} interleaved rounds of ${settings.seconds} s per run (order Express, Nest + Express, bare, Nest + Fastify, Fastify, nginx, then the reverse),
  after an unmeasured warm-up of ${settings.warmupSeconds} s per server and mode. Cells: median of rounds (min–max). Ratios: median
  of the per-round ratios (min–max), bare Node running right between the two adapters in every round. Only 200 answers inside
  the measured window count.

## Results

nest-mtls against what a team would run instead (targets of issue 17: server CPU per answer within 10% of the plain Nest app
on the same platform; twice the throughput of the nginx sidecar). The last row is the plain Nest + Fastify app itself against
the same sidecar: the most any in-process termination can gain over the sidecar on this route, since the sidecar's cost is
nginx plus that app over plain HTTP:

${alternatives}

nest-mtls against bare Node:

${tables}

The "capacity ratio" columns are bare Node's server CPU per answer divided by nest-mtls's (CPU time of the server process from
/proc over the measured window): the throughput ratio if each server had a whole core to itself and were the only limit. It
does not depend on the generator or on other load as much as the rates do. Per-run details (medians over the rounds):

${diagnostics}

## Reading

${reading}

## Work per request, counted

user-service with \`bench/count-per-request.js\` preloaded (it wraps \`fs\` reads, \`X509Certificate\` and the peer-certificate
getters), counting after a warm-up over 1 s each of keep-alive, full and resumed handshake load:

${workTable}

No file I/O and no certificate parsing per request; one peer-certificate read per new connection, whose SHA-256 fingerprint finds
the caller's identity built on its first connection.

${reloadSection}
## Profile of the per-connection cost (one-off, not re-run by the bench)

\`perf record -F 999\` of bench/bare-server.js under the full and resumed handshake loads (2026-11-27, this machine; symbols
grouped by name, so the split is approximate). Full handshakes: public-key and hash primitives (ecp_nistz256, x25519,
sha512) ≈ 17% of server samples; OpenSSL 3.0 bookkeeping (ASN.1/X.509 decoding, EVP fetches, name-map and hash-table
lookups under rwlocks: \`ossl_sa_doall_arg\`, \`OPENSSL_LH_retrieve\`, \`do_name\`) ≈ 28%; malloc/free and locks ≈ 21%;
V8/JavaScript/GC (TLSSocket, streams, HTTP server per connection) ≈ 24%; kernel (loopback TCP) ≈ 6%. Resumed handshakes:
primitives ≈ 12%, OpenSSL bookkeeping ≈ 20%, libc ≈ 15%, V8/JS/GC ≈ 37%, kernel ≈ 10%. None of it is nest-mtls code:
a faster handshake path would come from Node/OpenSSL (e.g. a newer OpenSSL line), not from the library.

The same profile of an earlier nest-mtls user-service under the full-handshake load (\`node --perf-basic-prof\`, call graphs)
put about 30% of its samples under \`ClientCertGuard.getIdentity\` -> \`identityFromCertificate\` (SAN decoding ≈ 13%, DN
formatting ≈ 9%): the identity was built on every new connection, and \`getPeerX509Certificate()\` copied the peer's chain
(≈ 315 µs per full handshake here, against ≈ 126 µs for \`getPeerCertificate(false)\`). Since then the identity is built once
per certificate (parsed in one pass) and found by SHA-256 fingerprint on later connections, read with
\`getPeerCertificate(false)\`; the per-connection difference left is in the tables above.

## Profile of the Fastify request path (one-off, not re-run by the bench)

\`node --cpu-prof --cpu-prof-interval 100\` of user-service on MtlsFastifyAdapter under the keep-alive GET /users/1 load, 6 s
windows, 2026-12-08 on this machine (shared, load average 6–15, so the split is approximate), before and after issue 17. Before:
ClientCertGuard about 5.9 µs per request inclusive under the profiler (of it the metrics' Subject emission and label-keyed count
1.7 µs, the WeakMap entry for the admitted identity 0.9 µs), graceful shutdown's per-request Set entry and \`close\` listener
about 1 µs, the first-request deadline's request hook 0.3 µs, user-service's \`logger.debug\` line 1.9 µs (formatted and
level-checked while off). After: ClientCertGuard 2.9 µs inclusive under the profiler, nothing per request from shutdown, the
deadline or metrics beyond one increment, the debug line 0.2 µs (the level check). The rest of a request (about 50–60 µs
of busy CPU here) is Node's TLS write of the answer (\`writev\`), Fastify's routing, hooks and reply, and Nest's router: the
plain Nest + Fastify row measures it without nest-mtls. See docs/guides/performance.md.
`;
  mkdirSync(path.dirname(DOC), { recursive: true });
  writeFileSync(DOC, doc);
}

async function main() {
  const startedAt = new Date();
  const host = machine();
  console.log(`bench: ${host.cpu}, Node ${host.node}, OpenSSL ${host.openssl}, load ${host.load}`);
  console.log(`bench: ${settings.rounds} rounds × ${settings.seconds} s per run, warm-up ${settings.warmupSeconds} s, ` + `CRL ${settings.crl ? 'on' : 'off'} for all`);
  ensureBuilt();
  const cryptoCost = measureCryptoCost();
  console.log(
    `bench: node:crypto on this machine: ECDSA P-256 sign ${cryptoCost.signUs.toFixed(0)} µs, verify ${cryptoCost.verifyUs.toFixed(0)} µs, ` +
      `X25519 key pair + derive ${cryptoCost.x25519Us.toFixed(0)} µs`,
  );

  tmpDir = mkdtempSync(path.join(os.tmpdir(), 'nest-mtls-bench-'));
  const { initPki } = require(DEV_PKI);
  const pki = await initPki(path.join(tmpDir, 'pki'), { services: ['user-service', 'home-page-service'] });
  const identityCost = measureIdentityCost(LIBRARY_INDEX, pki.service('home-page-service').cert);
  if (identityCost) {
    console.log(`bench: nest-mtls identity of the client certificate: first build ${identityCost.identityUs.toFixed(0)} µs, later connections (cache by fingerprint) ${identityCost.cachedUs?.toFixed(1) ?? '?'} µs (warm)`);
  }
  const guardCost = await measureGuardCost(LIBRARY_INDEX, pki.service('home-page-service').cert);
  if (guardCost) console.log(`bench: nest-mtls per request, ClientCertGuard + @ClientCert on a known caller: ${guardCost.guardUs.toFixed(2)} µs (in-process, warm)`);
  const servers = await startServers(pki);
  for (const side of Object.keys(servers)) console.log(`bench: ${SIDES[side].label} on 127.0.0.1:${servers[side].port} (pid ${servers[side].child.pid})`);

  const generator = new GeneratorClient(processes.startGenerator({ script: GENERATOR, cwd: root, cpu: 0 }));
  const client = pki.service('home-page-service');
  await generator.init({ key: client.key, cert: client.chain, ca: pki.trustStore, servername: 'localhost' });

  console.log('bench: warm-up');
  let negotiated = 'n/a';
  for (const [side, kind, urlPath] of roundPlan(0, Object.keys(servers))) {
    const r = await measure(generator, servers, side, kind, urlPath, settings.warmupSeconds);
    if (r.protocol) negotiated = `${r.protocol}, ${r.cipher}`;
    console.log(`  warm-up ${SIDES[side].short.padEnd(7)} ${kind.padEnd(9)} ${urlPath.padEnd(8)} ${describe(r)}`);
  }

  const series = {};
  for (let round = 0; round < settings.rounds; round++) {
    console.log(`bench: round ${round + 1}/${settings.rounds}`);
    for (const [side, kind, urlPath] of roundPlan(round, Object.keys(servers))) {
      const r = await measure(generator, servers, side, kind, urlPath, settings.seconds);
      const key = `${side} ${kind} ${urlPath}`;
      (series[key] = series[key] || []).push(r);
      console.log(`  ${SIDES[side].short.padEnd(7)} ${kind.padEnd(9)} ${urlPath.padEnd(8)} ${describe(r)}`);
    }
  }

  // Stable order for the tables.
  const ordered = {};
  const put = (key) => {
    if (series[key]) ordered[key] = series[key];
  };
  for (const kind of ['keepalive', 'full', 'resumed']) for (const side of ['A', 'F', 'B', 'N']) put(`${side} ${kind} /users/1`);
  for (const side of ['A', 'F']) put(`${side} keepalive /health`);
  for (const side of ['T', 'X']) for (const urlPath of ['/users/1', '/health']) put(`${side} keepalive ${urlPath}`);

  if (settings.keepAliveOnly) {
    console.log(`\nMachine: ${host.cpu}; Node ${host.node}; load average at start ${host.load}, now ${machine().load}`);
    console.log(report.consoleTable(report.alternativesTable(ordered)) + '\n');
    console.log(report.consoleTable(report.diagnosticsTable(ordered)));
    generator.stop();
    return;
  }

  const tables = report.markdownTables(ordered);
  const alternatives = report.alternativesTable(ordered);
  const diagnostics = report.diagnosticsTable(ordered);
  const reading = report.reading(ordered, cryptoCost, identityCost, guardCost);

  console.log(`\nMachine: ${host.cpu}; Node ${host.node}; OpenSSL ${host.openssl}; ${negotiated}`);
  console.log(`Medians of ${settings.rounds} rounds × ${settings.seconds} s (min–max); ratio = median of per-round nest-mtls/bare ratios\n`);
  console.log(report.consoleTable(alternatives) + '\n');
  for (const table of tables.split('\n\n')) console.log(report.consoleTable(table) + '\n');
  console.log(report.consoleTable(diagnostics) + '\n');
  console.log(reading.replace(/\*\*/g, '').replace(/`/g, ''));

  // The throughput servers are done: stop them so the next runs have CPU 1 to themselves.
  await Promise.all(Object.values(servers).map((server) => processes.stop(server.child)));

  console.log('\nbench: work per request and per connection (counted in user-service, after a warm-up)');
  const work = await measurePerRequestWork({ pki, generator, startUserService, settings });
  const workTable = perRequestWorkTable(work);
  console.log(report.consoleTable(workTable));
  let reload = null;
  if (settings.reload) {
    console.log(`\nbench: reload under load (full handshakes, ${settings.handshakeConcurrency} concurrent, handshakes/s per 250 ms around 4 swaps per run)`);
    const runs = await measureReloadUnderLoad({
      pki,
      tmpDir,
      generator,
      startUserService,
      concurrency: settings.handshakeConcurrency,
      log: (line) => console.log(line),
    });
    reload = { table: reloadTable(runs), reading: reloadReading(runs) };
    console.log('\n' + report.consoleTable(reload.table) + '\n');
    console.log(reload.reading.replace(/\*\*/g, '').replace(/`/g, ''));
  }
  generator.stop();

  // Revocation: its own servers, after the ones above are stopped (bench/revocation.js).
  let revocation = '';
  if (process.env.BENCH_REVOCATION !== '0') {
    await processes.killAll();
    revocation = (await runRevocationBench({ ...settings })).section;
    console.log(`\n${revocation}`);
  }
  const durationS = Math.round((Date.now() - startedAt.getTime()) / 1000);

  if (process.env.BENCH_NO_DOC !== '1') {
    writeDoc({ startedAt, host, tables, alternatives, diagnostics, reading, negotiated, durationS, reload, workTable });
    if (revocation) appendFileSync(DOC, `\n${revocation}`);
    console.log(`\nbench: wrote ${path.relative(root, DOC)} (${durationS} s)`);
  }
}

main()
  .then(() => cleanup())
  .catch(async (err) => {
    if (cleaningUp) return; // stopped by a signal: the children's exits are expected
    console.error(`bench: ${err && err.message ? err.message : err}`);
    if (process.env.BENCH_DEBUG === '1' && err && err.stack) console.error(err.stack);
    await cleanup();
    process.exit(1);
  });
