'use strict';
/*
 * A reload of the TLS material under load: user-service (each adapter) serves
 * full handshakes (a new connection per request, like a fleet of callers
 * reconnecting) while its files are replaced and SIGHUP makes it reload them
 * (MTLS_WATCH=false, so the signal is the only trigger). The generator counts
 * 200 answers per 250 ms; the report says how deep and how long handshakes/s
 * dipped around the swap, for PEM files and PKCS#12 stores (decoded with
 * node-forge, synchronously, on the event loop). Run after the throughput
 * rounds, with those servers stopped.
 */
const { renameSync, writeFileSync, mkdirSync } = require('node:fs');
const path = require('node:path');
const { median, min } = require('./stats');
const processes = require('./processes');

const BUCKET_MS = 250;
/** "Dented": below this share of the rate before the swap. */
const DENT_SHARE = 0.9;
/** For longer than this. */
const DENT_LIMIT_MS = 1000;

/** The kinds of material measured: how the service is configured, and which files a swap writes. */
const MATERIALS = [
  { name: 'PEM (certPath + keyPath)', files: (m) => ({ 'tls.crt': m.chainPem, 'tls.key': m.keyPem }), env: (dir) => ({ MTLS_CERT_PATH: path.join(dir, 'tls.crt'), MTLS_KEY_PATH: path.join(dir, 'tls.key') }) },
  { name: 'PKCS#12, 2,048 iterations (as openssl writes it)', files: (m) => ({ 'server.p12': m.p12 }), env: (dir, pki) => ({ MTLS_KEY_STORE_PATH: path.join(dir, 'server.p12'), MTLS_KEY_STORE_PASSWORD: pki.password }) },
  { name: 'PKCS#12, 10,000 iterations (as keytool writes it)', files: (m) => ({ 'server.p12': m.p12Keytool }), env: (dir, pki) => ({ MTLS_KEY_STORE_PATH: path.join(dir, 'server.p12'), MTLS_KEY_STORE_PASSWORD: pki.password }) },
];

const ADAPTERS = [
  ['express', 'Express'],
  ['fastify', 'Fastify'],
];

/** A user-service certificate issued now into the bench's PKI, in every form a swap may write. */
async function issueMaterial(pki, testing, name) {
  const files = await testing.issueIntoPki(pki.dir, { name, subject: 'CN=user-service,O=nest-mtls', dns: ['user-service', 'localhost'], ip: ['127.0.0.1', '::1'] });
  const issued = await testing.loadIssuedCertificate(files.chain, files.key);
  return {
    serial: issued.certificate.serialNumber,
    chainPem: issued.chainPem,
    keyPem: issued.keyPem,
    p12: await testing.toPkcs12(issued, pki.password, { alias: 'user-service', iterations: 2048 }),
    p12Keytool: await testing.toPkcs12(issued, pki.password, { alias: 'user-service', iterations: 10000 }),
  };
}

/** Writes each file next to its place and renames it in (a reader never sees half a file). */
function publish(dir, files) {
  for (const [name, content] of Object.entries(files)) {
    const tmp = path.join(dir, `.${name}.tmp`);
    writeFileSync(tmp, content);
    renameSync(tmp, path.join(dir, name));
  }
}

/** Resolves with Date.now() when the log matches `pattern` (polled every 10 ms), or null after `timeoutMs`. */
function whenLogged(child, pattern, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const poll = () => {
      if (pattern.test(processes.logOf(child))) return resolve(Date.now());
      if (Date.now() > deadline) return resolve(null);
      setTimeout(poll, 10);
    };
    poll();
  });
}

/** One run: load, swap at a third of it, SIGHUP; the per-250-ms rates and when the service said it reloaded. */
async function oneRun({ pki, dir, material, adapter, first, next, generator, startUserService, concurrency, seconds, log }) {
  mkdirSync(dir, { recursive: true });
  publish(dir, material.files(first));
  const service = await startUserService(`user-service (${adapter}, reload)`, adapter, { MTLS_TRUST_STORE_PATH: pki.trustStore, MTLS_WATCH: 'false', ...material.env(dir, pki) }, `reload-${adapter}-${path.basename(dir)}.log`);
  try {
    // Warm-up: the first connections pay for JIT and the caller's identity.
    await generator.run({ mode: 'full', port: service.port, path: '/users/1', seconds: 1, concurrency, serverPid: service.child.pid });
    const swapAtMs = Math.round((seconds * 1000) / 3);
    let sighupAt = null;
    let windowStart = null;
    let reloadedAt = Promise.resolve(null);
    const result = await generator.run({
      mode: 'full',
      port: service.port,
      path: '/users/1',
      seconds,
      concurrency,
      serverPid: service.child.pid,
      bucketMs: BUCKET_MS,
      onStart: () => {
        windowStart = Date.now();
        setTimeout(() => {
          publish(dir, material.files(next));
          sighupAt = Date.now();
          reloadedAt = whenLogged(service.child, /reloaded the TLS material \(SIGHUP\)/, seconds * 1000 + 5000);
          service.child.kill('SIGHUP');
        }, swapAtMs);
      },
    });
    const loggedAt = await reloadedAt;
    const logText = processes.logOf(service.child);
    const served = new RegExp(`reloaded the TLS material \\(SIGHUP\\): now serving serial ${next.serial}`, 'i').test(logText);
    const failed = /reload of the TLS material failed/.test(logText);
    if (sighupAt === null) throw new Error('the swap did not happen inside the measured window');
    return {
      adapter,
      material: material.name,
      buckets: result.buckets,
      errorBuckets: result.errorBuckets,
      errors: result.errors,
      swapAtMs: sighupAt - windowStart,
      reloadMs: loggedAt === null ? null : loggedAt - sighupAt,
      reloaded: served && !failed,
    };
  } finally {
    await processes.stop(service.child);
    log(`  ${adapter.padEnd(7)} ${material.name}: done`);
  }
}

/** The dip of one run: baseline (median 250 ms rate before the swap), lowest window after it, longest stretch below DENT_SHARE. */
function analyse(run) {
  const rates = run.buckets.map((n) => (n * 1000) / BUCKET_MS);
  const swapBucket = Math.floor(run.swapAtMs / BUCKET_MS);
  const before = rates.slice(1, swapBucket); // the first slice ramps up
  const baseline = median(before);
  const after = rates.slice(swapBucket, rates.length - 1); // the last slice is cut by the window's end
  const low = (r) => r < DENT_SHARE * baseline;
  const longest = (list) => {
    let best = 0;
    let current = 0;
    for (const r of list) {
      current = low(r) ? current + 1 : 0;
      best = Math.max(best, current);
    }
    return best * BUCKET_MS;
  };
  const lowest = min(after);
  const dentMs = longest(after);
  return {
    baseline,
    lowest,
    lowestShare: lowest / baseline,
    dentMs,
    controlDentMs: longest(before),
    // Handshakes short of the baseline over the 2 s from the swap (surpluses count against it: a stall's backlog is served after it).
    lost: Math.max(0, after.slice(0, Math.ceil(2000 / BUCKET_MS)).reduce((s, r) => s + (baseline - r) * (BUCKET_MS / 1000), 0)),
    errors: run.errorBuckets.reduce((s, n) => s + n, 0),
    dented: dentMs > DENT_LIMIT_MS,
    rates,
    swapBucket,
  };
}

/**
 * Every material kind on both adapters, one after the other; resolves with
 * the runs (each with its analysis).
 */
async function measureReloadUnderLoad({ pki, tmpDir, generator, startUserService, concurrency, seconds, log }) {
  const testing = require(path.join(__dirname, '..', 'libs/mtls/dist/testing/index.js'));
  const runs = [];
  let n = 0;
  for (const [adapter] of ADAPTERS) {
    for (const material of MATERIALS) {
      n++;
      const first = await issueMaterial(pki, testing, `reload-${n}-a`);
      const next = await issueMaterial(pki, testing, `reload-${n}-b`);
      const run = await oneRun({ pki, dir: path.join(tmpDir, `reload-${n}`), material, adapter, first, next, generator, startUserService, concurrency, seconds, log });
      run.analysis = analyse(run);
      runs.push(run);
    }
  }
  return runs;
}

const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');

/** The markdown table of the runs. */
function reloadTable(runs) {
  const lines = [
    '| adapter | material | reload (SIGHUP → swapped) | handshakes/s before | lowest 250 ms after (share) | longest stretch below 90% | handshakes lost in the 2 s after (as ms of full rate) | failed handshakes | dent > 10% for > 1 s |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const run of runs) {
    const a = run.analysis;
    const name = ADAPTERS.find(([key]) => key === run.adapter)[1];
    lines.push(
      `| ${name} | ${run.material} | ${run.reloadMs === null ? 'not seen' : `${int(run.reloadMs)} ms`}${run.reloaded ? '' : ' (NOT reloaded)'} | ${int(a.baseline)} | ` +
        `${int(a.lowest)} (${Math.round(a.lowestShare * 100)}%) | ${int(a.dentMs)} ms | ${int(a.lost)} (${int((1000 * a.lost) / a.baseline)} ms) | ${a.errors} | ${a.dented ? '**yes**' : 'no'} |`,
    );
  }
  return lines.join('\n');
}

/** Sentences about the runs, and each run's 250 ms rates for the record. */
function reloadReading(runs) {
  const out = [];
  const dented = runs.filter((r) => r.analysis.dented);
  const failed = runs.filter((r) => !r.reloaded);
  out.push(
    `- Each run: full handshakes (a new connection + GET /users/1 each), the files replaced (written next to their place and renamed in) ` +
      `a third into the run, then SIGHUP (MTLS_WATCH=false). "Reload" is the time from the signal to the service's log line that the new ` +
      `material is in place (polled every 10 ms); it includes reading and decoding the files, every startup check and the loopback canary handshake. ` +
      `"Lost" is what the 2 s from the swap served below the rate before it, also as the time a stop of the whole service would lose.`,
  );
  out.push(
    dented.length === 0
      ? `- **No run dented handshakes/s by more than 10% for more than 1 s.** The deepest 250 ms window after a swap kept ` +
          `${Math.round(Math.min(...runs.map((r) => r.analysis.lowestShare)) * 100)}% of the rate before it.`
      : `- **Dented by more than 10% for more than 1 s:** ${dented.map((r) => `${r.adapter}, ${r.material} (${int(r.analysis.dentMs)} ms)`).join('; ')}.`,
  );
  const controls = runs.filter((r) => r.analysis.controlDentMs > 0);
  if (controls.length) {
    out.push(
      `- Noise, for scale: before the swap, stretches below 90% of the same baseline lasted up to ${int(Math.max(...runs.map((r) => r.analysis.controlDentMs)))} ms ` +
        `(other processes on the machine, GC).`,
    );
  }
  if (failed.length) out.push(`- **Not reloaded** (check the material): ${failed.map((r) => `${r.adapter}, ${r.material}`).join('; ')}.`);
  const withErrors = runs.filter((r) => r.analysis.errors > 0);
  out.push(
    withErrors.length === 0
      ? '- No handshake or request failed in any run (old connections finish on the old context; new ones get the new one).'
      : `- Failed handshakes or requests: ${withErrors.map((r) => `${r.adapter}, ${r.material}: ${JSON.stringify(r.errors)}`).join('; ')}.`,
  );
  out.push('');
  out.push('Handshakes/s per 250 ms window (the swap window in brackets):');
  out.push('');
  for (const run of runs) {
    const a = run.analysis;
    out.push(`- ${run.adapter}, ${run.material}: ${a.rates.map((r, i) => (i === a.swapBucket ? `[${int(r)}]` : int(r))).join(' ')}`);
  }
  return out.join('\n');
}

module.exports = { measureReloadUnderLoad, reloadTable, reloadReading, analyse };
