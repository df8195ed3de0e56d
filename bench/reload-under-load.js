'use strict';
/*
 * A reload of the TLS material under load: user-service (each adapter) serves
 * full handshakes (a new connection per request, like a fleet of callers
 * reconnecting) while its files are replaced and SIGHUP makes it reload them
 * (MTLS_WATCH=false, so the signal is the only trigger), SWAPS times per run,
 * every SWAP_EVERY_MS, alternating between two certificates. The generator
 * counts 200 answers per 250 ms; the windows around each swap are averaged
 * over the swaps (what other jobs on the machine do is not in step with the
 * swaps, so it averages out), and the report says how deep and how long
 * handshakes/s dipped after a swap, for PEM files and PKCS#12 stores (decoded
 * with node-forge, synchronously, on the event loop). Run after the
 * throughput rounds, with those servers stopped.
 */
const { renameSync, writeFileSync, mkdirSync } = require('node:fs');
const path = require('node:path');
const { median, min } = require('./stats');
const processes = require('./processes');

const BUCKET_MS = 250;
/** Swaps per run, and the time between them (the first one after the same lead). */
const SWAPS = 4;
const SWAP_EVERY_MS = 2500;
/** Windows before and after a swap that are averaged (1 s before, 2 s from it). */
const BEFORE = 4;
const AFTER = 8;
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

let runCount = 0;

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

/** Resolves with Date.now() when `seen(log)` holds (polled every 10 ms), or null after `timeoutMs`. */
function whenLogged(child, seen, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const poll = () => {
      if (seen(processes.logOf(child))) return resolve(Date.now());
      if (Date.now() > deadline) return resolve(null);
      setTimeout(poll, 10);
    };
    poll();
  });
}

/** One run: load, SWAPS swaps with SIGHUP; the per-250-ms rates, when each swap happened and how long each reload took. */
async function oneRun({ pki, dir, material, adapter, first, next, generator, startUserService, concurrency, log }) {
  mkdirSync(dir, { recursive: true });
  publish(dir, material.files(first));
  const service = await startUserService(`user-service (${adapter}, reload)`, adapter, { MTLS_TRUST_STORE_PATH: pki.trustStore, MTLS_WATCH: 'false', ...material.env(dir, pki) }, `reload-${adapter}-${path.basename(dir)}.log`);
  try {
    // Warm-up: the first connections pay for JIT and the caller's identity.
    await generator.run({ mode: 'full', port: service.port, path: '/users/1', seconds: 2, concurrency, serverPid: service.child.pid });
    const seconds = (SWAP_EVERY_MS * (SWAPS + 1)) / 1000;
    const swaps = []; // { at (ms after the window opened), reloadMs }
    let windowStart = null;
    const reloads = [];
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
        for (let i = 0; i < SWAPS; i++) {
          setTimeout(() => {
            const before = (processes.logOf(service.child).match(/reloaded the TLS material \(SIGHUP\)/g) ?? []).length;
            publish(dir, material.files(i % 2 === 0 ? next : first));
            const at = Date.now();
            swaps.push(at - windowStart);
            reloads.push(whenLogged(service.child, (text) => (text.match(/reloaded the TLS material \(SIGHUP\)/g) ?? []).length > before, 5000).then((t) => (t === null ? null : t - at)));
            service.child.kill('SIGHUP');
          }, SWAP_EVERY_MS * (i + 1));
        }
      },
    });
    const reloadMs = await Promise.all(reloads);
    const logText = processes.logOf(service.child);
    if (swaps.length !== SWAPS) throw new Error(`only ${swaps.length} of ${SWAPS} swaps happened inside the measured window`);
    return {
      adapter,
      material: material.name,
      buckets: result.buckets,
      errorBuckets: result.errorBuckets,
      errors: result.errors,
      swapsAtMs: swaps,
      reloadMs,
      reloaded:
        reloadMs.every((ms) => ms !== null) &&
        !/reload of the TLS material failed/.test(logText) &&
        [first, next].every((m) => new RegExp(`reloaded the TLS material \\(SIGHUP\\): now serving serial ${m.serial}`, 'i').test(logText)),
    };
  } finally {
    await processes.stop(service.child);
    log(`  ${adapter.padEnd(7)} ${material.name}: done`);
  }
}

/**
 * The dip of one run: the 250 ms windows from BEFORE before each swap to AFTER
 * after it, averaged over the swaps; the baseline is the mean of the windows
 * before; then the lowest window after the swap and the longest stretch below
 * DENT_SHARE of the baseline.
 */
function analyse(run) {
  const rates = run.buckets.map((n) => (n * 1000) / BUCKET_MS);
  const aligned = Array.from({ length: BEFORE + AFTER }, () => []);
  for (const at of run.swapsAtMs) {
    const swapBucket = Math.floor(at / BUCKET_MS);
    for (let k = -BEFORE; k < AFTER; k++) {
      const rate = rates[swapBucket + k];
      if (rate !== undefined && swapBucket + k < rates.length - 1) aligned[k + BEFORE].push(rate); // the last window is cut by the end
    }
  }
  const mean = (list) => list.reduce((sum, x) => sum + x, 0) / list.length;
  const profile = aligned.map(mean);
  const baseline = mean(profile.slice(0, BEFORE));
  const after = profile.slice(BEFORE);
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
  const reloads = run.reloadMs.filter((ms) => ms !== null);
  return {
    baseline,
    lowest,
    lowestShare: lowest / baseline,
    dentMs,
    controlDentMs: longest(profile.slice(0, BEFORE)),
    // Handshakes short of the baseline over the 2 s from a swap (surpluses count against it: a stall's backlog is served after it).
    lost: Math.max(0, after.reduce((sum, r) => sum + (baseline - r) * (BUCKET_MS / 1000), 0)),
    reloadMs: reloads.length ? median(reloads) : null,
    errors: run.errorBuckets.reduce((sum, n) => sum + n, 0),
    dented: dentMs > DENT_LIMIT_MS,
    profile,
  };
}

/**
 * Every material kind on both adapters, one after the other; resolves with
 * the runs (each with its analysis).
 */
async function measureReloadUnderLoad({ pki, tmpDir, generator, startUserService, concurrency, log }) {
  const testing = { ...require(path.join(__dirname, '..', 'libs/mtls/dist/dev-pki/index.js')), ...require(path.join(__dirname, '..', 'libs/mtls/dist/testing/index.js')) };
  const runs = [];
  for (const [adapter] of ADAPTERS) {
    for (const material of MATERIALS) {
      const n = ++runCount; // names the run's files and log, unique across calls
      const first = await issueMaterial(pki, testing, `reload-${n}-a`);
      const next = await issueMaterial(pki, testing, `reload-${n}-b`);
      const run = await oneRun({ pki, dir: path.join(tmpDir, `reload-${n}`), material, adapter, first, next, generator, startUserService, concurrency, log });
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
    `| adapter | material | reload (SIGHUP → swapped, median of ${SWAPS}) | handshakes/s before | lowest 250 ms after (share) | longest stretch below 90% | handshakes lost in the 2 s after (as ms of full rate) | failed handshakes | dent > 10% for > 1 s |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const run of runs) {
    const a = run.analysis;
    const name = ADAPTERS.find(([key]) => key === run.adapter)[1];
    lines.push(
      `| ${name} | ${run.material} | ${a.reloadMs === null ? 'not seen' : `${int(a.reloadMs)} ms`}${run.reloaded ? '' : ' (NOT reloaded)'} | ${int(a.baseline)} | ` +
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
    `- Each run: full handshakes (a new connection + GET /users/1 each), and ${SWAPS} times, every ${SWAP_EVERY_MS / 1000} s, the files replaced ` +
      `(written next to their place and renamed in) by the other of two certificates, then SIGHUP (MTLS_WATCH=false). The 250 ms windows ` +
      `from 1 s before to 2 s after each swap are averaged over the ${SWAPS} swaps (other jobs on the machine are not in step with them). ` +
      `"Reload" is the time from the signal to the service's log line that the new material is in place (polled every 10 ms); it includes ` +
      `reading and decoding the files, every startup check and the loopback canary handshake. "Lost" is what the 2 s from a swap served ` +
      `below the rate before it, also as the time a stop of the whole service would lose.`,
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
      `- Noise, for scale: in the averaged second before a swap, stretches below 90% of the same baseline lasted up to ` +
        `${int(Math.max(...runs.map((r) => r.analysis.controlDentMs)))} ms (other processes on the machine, GC).`,
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
  out.push(`Handshakes/s per 250 ms window from 1 s before to 2 s after a swap, averaged over the ${SWAPS} swaps (the swap's window in brackets):`);
  out.push('');
  for (const run of runs) {
    const a = run.analysis;
    out.push(`- ${run.adapter}, ${run.material}: ${a.profile.map((r, i) => (i === BEFORE ? `[${int(r)}]` : int(r))).join(' ')}`);
  }
  return out.join('\n');
}

module.exports = { measureReloadUnderLoad, reloadTable, reloadReading, analyse };
