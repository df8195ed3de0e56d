'use strict';
/*
 * The revocation part of `npm run bench` (also alone: `node bench/revocation.js`):
 *
 *   1. a CRL of 100,000 entries (made by `openssl ca -gencrl`) loads in under 1 s
 *      (the CRL reader, and the whole material load with its startup checks);
 *   2. full handshakes/s of user-service with that CRL (crlCheck chain: OpenSSL
 *      checks it in the handshake, the revocation gate from its index) >= 0.9 of
 *      user-service without CRLs;
 *   3. with OCSP on (`openssl ocsp` as the responder, the client certificate
 *      naming it) and a warm cache: keep-alive requests/s >= 0.95 and full
 *      handshakes/s >= 0.9 of OCSP off.
 *
 * Three user-service processes (no revocation, big CRL, OCSP), pinned to CPU 1
 * like the main bench's servers, one under load at a time, rounds interleaved.
 * Returns a markdown section; a benchmark, not a test.
 */
const { execFileSync, spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const processes = require('./processes');
const { GeneratorClient } = require('./generator-client');
const { median, min, max } = require('./stats');

const root = path.join(__dirname, '..');
const USER_SERVICE_MAIN = path.join(root, 'dist/apps/user-service/apps/user-service/src/main.js');
const LIB = path.join(root, 'libs/mtls/dist');
const ENTRIES = 100_000;

function childEnv(extra) {
  const env = { ...process.env, NODE_ENV: 'production' };
  for (const key of Object.keys(env)) if (key.startsWith('MTLS_') || key.startsWith('BARE_')) delete env[key];
  return { ...env, ...extra };
}

function hex(bytes) {
  return require('node:crypto').randomBytes(bytes).toString('hex').toUpperCase().replace(/^[89A-F]/, '1');
}

/** A CRL of the global CA with `ENTRIES` revoked serials (openssl ca -gencrl), plus the root's CRL: the crlPath file. */
function bigCrl(dir, pki) {
  const t = (d) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  const revokedAt = t(new Date(Date.now() - 86_400_000));
  const expiry = t(new Date(Date.now() + 365 * 86_400_000));
  const lines = [];
  for (let i = 0; i < ENTRIES; i++) lines.push(`R\t${expiry}\t${revokedAt}\t${hex(16)}\tunknown\t/CN=revoked-${i}`);
  writeFileSync(path.join(dir, 'big-index.txt'), lines.join('\n') + '\n');
  writeFileSync(path.join(dir, 'big-index.txt.attr'), 'unique_subject = no\n');
  writeFileSync(path.join(dir, 'big-crlnumber'), '1000\n');
  const config = path.join(dir, 'big-ca.cnf');
  writeFileSync(config, `[ca]\ndefault_ca = d\n[d]\ndatabase = ${path.join(dir, 'big-index.txt')}\ncrlnumber = ${path.join(dir, 'big-crlnumber')}\ndefault_md = sha256\ndefault_crl_days = 30\n`);
  const out = path.join(dir, 'big-global.crl.pem');
  execFileSync('openssl', ['ca', '-batch', '-config', config, '-gencrl', '-cert', pki.globalCa, '-keyfile', pki.globalCaKey, '-out', out], { stdio: 'ignore' });
  const rootCrl = readFileSync(pki.crl, 'utf8').match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----\n/)[0];
  const file = path.join(dir, 'big-crl.pem');
  writeFileSync(file, rootCrl + readFileSync(out, 'utf8'));
  return file;
}

/** Milliseconds to read the big CRL (reader only) and the whole material with its startup checks, medians of 5. */
async function loadTimes(crlFile, pki) {
  require('reflect-metadata');
  const { loadCrls } = require(path.join(LIB, 'material/crl-reader.js'));
  const { loadTlsMaterial } = require(path.join(LIB, 'material/tls-material-loader.js'));
  const { runStartupChecks } = require(path.join(LIB, 'material/startup-checks.js'));
  const { validateMtlsOptions } = require(path.join(LIB, 'config/validate-mtls-options.js'));
  const options = validateMtlsOptions({ keyStorePath: pki.service('user-service').p12, keyStorePassword: pki.password, trustStorePath: pki.trustStore, crlPath: crlFile });
  const reader = [];
  const whole = [];
  let entries = 0;
  for (let i = 0; i < 5; i++) {
    let start = performance.now();
    const crls = loadCrls(crlFile);
    reader.push(performance.now() - start);
    entries = crls[1].crl.revokedCount;
    start = performance.now();
    await runStartupChecks(loadTlsMaterial(options), options);
    whole.push(performance.now() - start);
  }
  return { entries, readerMs: median(reader), wholeMs: median(whole), fileBytes: readFileSync(crlFile).length };
}

function startService(name, env, dir) {
  return processes.startServer({ name, script: USER_SERVICE_MAIN, cwd: root, logFile: path.join(dir, `${name}.log`), cpu: 1, env });
}

async function runRevocationBench({ seconds = 3, rounds = 5, warmupSeconds = 2, keepAliveConnections = 16, handshakeConcurrency = 8, log = console.log } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nest-mtls-bench-revocation-'));
  let responder;
  let generator;
  try {
    const ocspPort = await processes.freePort();
    const { initPki } = require(path.join(LIB, 'dev-pki/index.js'));
    const pki = await initPki(path.join(dir, 'pki'), { services: ['user-service', 'home-page-service'], ocspUrl: `http://127.0.0.1:${ocspPort}/` });
    log('bench revocation: making a CRL of 100,000 entries (openssl ca -gencrl)');
    const crlFile = bigCrl(dir, pki);
    const load = await loadTimes(crlFile, pki);
    log(`bench revocation: ${load.entries.toLocaleString('en-US')}-entry CRL (${(load.fileBytes / 1e6).toFixed(1)} MB PEM): reader ${load.readerMs.toFixed(0)} ms, whole material with startup checks ${load.wholeMs.toFixed(0)} ms`);

    responder = spawn('openssl', ['ocsp', '-index', pki.index, '-port', String(ocspPort), '-CA', pki.globalCa, '-rsigner', pki.globalCa, '-rkey', pki.globalCaKey, '-ignore_err'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    responder.stdout.on('data', (d) => (said += d));
    responder.stderr.on('data', (d) => (said += d));
    for (let i = 0; i < 100 && !said.includes('ACCEPT'); i++) await new Promise((r) => setTimeout(r, 50));

    const base = { HOST: '127.0.0.1', MTLS_KEY_STORE_PATH: pki.service('user-service').p12, MTLS_KEY_STORE_PASSWORD: pki.password, MTLS_TRUST_STORE_PATH: pki.trustStore };
    const ports = { off: await processes.freePort(), crl: await processes.freePort(), ocsp: await processes.freePort() };
    const servers = {
      off: startService('user-service-no-revocation', childEnv({ ...base, PORT: String(ports.off) }), dir),
      crl: startService('user-service-big-crl', childEnv({ ...base, PORT: String(ports.crl), MTLS_CRL_PATH: crlFile }), dir),
      // The development PKI's CAs do not name the responder themselves: its host is allowed explicitly.
      ocsp: startService('user-service-ocsp', childEnv({ ...base, PORT: String(ports.ocsp), MTLS_OCSP: 'true', MTLS_REVOCATION_ALLOWED_HOSTS: `127.0.0.1:${ocspPort}` }), dir),
    };
    await Promise.all(Object.values(servers).map((s) => processes.waitForReady(s, /listening on/, 60000)));

    generator = new GeneratorClient(processes.startGenerator({ script: path.join(__dirname, 'load-generator.js'), cwd: root, cpu: 0 }));
    const client = pki.service('home-page-service');
    await generator.init({ key: client.key, cert: client.chain, ca: pki.trustStore, servername: 'localhost' });
    const run = (side, mode, secs) =>
      generator.run({ mode, port: ports[side], path: '/users/1', seconds: secs, concurrency: mode === 'keepalive' ? keepAliveConnections : handshakeConcurrency, serverPid: servers[side].pid });

    const plan = [
      ['full', 'off'],
      ['full', 'crl'],
      ['full', 'ocsp'],
      ['keepalive', 'off'],
      ['keepalive', 'ocsp'],
    ];
    log('bench revocation: warm-up (fills the OCSP cache)');
    for (const [mode, side] of plan) await run(side, mode, warmupSeconds);
    const series = {};
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? plan : [...plan].reverse();
      for (const [mode, side] of order) {
        const r = await run(side, mode, seconds);
        (series[`${mode} ${side}`] = series[`${mode} ${side}`] || []).push(r);
        const bad = Object.entries(r.statuses).filter(([s]) => s !== '200');
        log(`  round ${round + 1} ${mode.padEnd(9)} ${side.padEnd(4)} ${Math.round(r.rate).toLocaleString('en-US').padStart(7)}/s, server CPU ${r.serverCpuUsPerOk === null ? '?' : r.serverCpuUsPerOk.toFixed(0)} µs per answer, others ${r.otherCpuShare === null ? '?' : Math.round(r.otherCpuShare * 100)}%${bad.length || r.errorCount ? ` (non-200/errors: ${JSON.stringify(r.statuses)} ${JSON.stringify(r.errors)})` : ''}`);
      }
    }
    const rates = (key) => series[key].map((r) => r.rate);
    const ratios = (a, b) => rates(a).map((x, i) => x / rates(b)[i]);
    const fmt = (v) => Math.round(v).toLocaleString('en-US');
    const cell = (key) => `${fmt(median(rates(key)))} (${fmt(min(rates(key)))}–${fmt(max(rates(key)))})`;
    const ratioCell = (values) => `${median(values).toFixed(2)} (${min(values).toFixed(2)}–${max(values).toFixed(2)})`;
    const cpu = (key) => series[key].map((r) => r.serverCpuUsPerOk);
    const row = (what, key, baseKey, target) => {
      const r = ratios(key, baseKey);
      const capacity = cpu(baseKey).map((b, i) => b / cpu(key)[i]);
      return `| ${what} | ${cell(key)} | ${cell(baseKey)} | ${ratioCell(r)} | ${ratioCell(capacity)} | ≥ ${target.toFixed(2)} ${median(r) >= target ? 'holds' : 'missed'} |`;
    };
    const ocspQueries = (said.match(/Received request/g) || []).length;
    const table = [
      `| metric | with | without | ratio | capacity ratio | target |`,
      `|---|---:|---:|---:|---:|---|`,
      `| load a CRL of ${load.entries.toLocaleString('en-US')} entries (${(load.fileBytes / 1e6).toFixed(1)} MB): reader / whole material with startup checks | ${load.readerMs.toFixed(0)} ms / ${load.wholeMs.toFixed(0)} ms | | | | < 1000 ms ${load.wholeMs < 1000 ? 'holds' : 'missed'} |`,
      row('full handshakes/s, 100,000-entry CRL (crlCheck chain) vs no CRL', 'full crl', 'full off', 0.9),
      row('keep-alive requests/s, OCSP on (warm cache) vs off', 'keepalive ocsp', 'keepalive off', 0.95),
      row('full handshakes/s, OCSP on (warm cache) vs off', 'full ocsp', 'full off', 0.9),
    ].join('\n');
    const section = `## Revocation

\`bench/revocation.js\` (part of \`npm run bench\`; alone: \`node bench/revocation.js\`): user-service three times, without
revocation checks, with a CRL of 100,000 entries for the global CA (made by \`openssl ca -gencrl\`; crlCheck chain, revocationFailure
closed; more than 64 KB, so the revocation gate checks it from its index, not OpenSSL in the handshake),
and with \`MTLS_OCSP=true\` against \`openssl ocsp\` named in the client certificate (the warm-up fills the cache; the
responder got ${ocspQueries} quer${ocspQueries === 1 ? 'y' : 'ies'} in the whole run). \`GET /users/1\`, ${rounds} interleaved rounds of ${seconds} s, medians (min–max). "Capacity ratio": the server's CPU time per
answer without, divided by with (from /proc): what the rates would be if each server had its core to itself, less
sensitive to whatever else runs on the machine than the rates.

${table}
`;
    return { section, table, load };
  } finally {
    if (generator) generator.stop();
    await processes.killAll();
    if (responder && responder.exitCode === null) responder.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { runRevocationBench, bigCrl };

if (require.main === module) {
  const n = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
  runRevocationBench({ seconds: n('BENCH_SECONDS', 3), rounds: n('BENCH_ROUNDS', 5), warmupSeconds: n('BENCH_WARMUP_SECONDS', 2) })
    .then(({ table }) => {
      console.log(`\n${table}`);
    })
    .catch(async (err) => {
      console.error(`bench revocation: ${err && err.stack ? err.stack : err}`);
      await processes.killAll();
      process.exit(1);
    });
}
