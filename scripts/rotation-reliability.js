#!/usr/bin/env node
'use strict';
/*
 * npm run reliability: certificate rotation under load, with numbers.
 *
 * user-service and home-page-service run as their own processes, their TLS
 * material in directories updated like Kubernetes secret volumes. A second
 * process keeps keep-alive and new-connection load on user-service the whole
 * time. Then: the server certificate is rotated ROTATIONS times (..data
 * swaps), a truncated certificate is written once, a second CA is added to the
 * trust store (old and new overlap; a client of the new CA gets in), and
 * home-page-service's client certificate is swapped to one with another
 * subject. The targets: zero failed requests, zero refused valid handshakes,
 * each good swap served to new handshakes within 5 s, the broken certificate
 * never served, user-service seeing home-page-service's new subject within 5 s.
 *
 * Prints a report and exits 0 only when every target holds. As a module,
 * runReliability() returns the report (the e2e test uses it).
 */
const { fork, spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { request: httpRequest } = require('node:http');
const { request: httpsRequest } = require('node:https');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { freePort } = require('./free-port');
const { SecretVolume } = require('./reliability/secret-volume');

const root = join(__dirname, '..');
const SWAP_LIMIT_MS = 5000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function mainOf(app) {
  return join(root, 'dist', 'apps', app, 'apps', app, 'src', 'main.js');
}


function startService(app, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainOf(app)], { cwd: root, env: { PATH: process.env.PATH, HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.output = '';
    const timer = setTimeout(() => reject(new Error(`${app} did not start:\n${child.output}`)), 30000);
    const onData = (d) => {
      child.output += d;
      if (/listening on/.test(child.output)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => (child.output += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${app} exited with ${code}:\n${child.output}`));
    });
  });
}

function stop(child) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** One mTLS GET with a fresh connection; resolves with the status or the error code. */
function httpsStatus(port, path, tls) {
  return new Promise((resolve) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, servername: 'localhost', agent: false, ...tls }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', (err) => resolve(err.code || err.message));
    req.end();
  });
}

function httpStatus(port, path) {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', (err) => resolve(err.code || err.message));
    req.end();
  });
}

/**
 * @param {{ rotations?: number, log?: (line: string) => void }} [options]
 */
async function runReliability({ rotations = 20, log = (line) => void process.stdout.write(`${line}\n`) } = {}) {
  const { initPki, loadIssuedCertificate } = require('nest-mtls/dev-pki');
  const { issueCertificate, createRootCa } = require('nest-mtls/testing');
  const work = mkdtempSync(join(tmpdir(), 'nest-mtls-reliability-'));
  const children = [];
  try {
    const layout = await initPki(join(work, 'pki'), { services: [] });
    const globalCa = await loadIssuedCertificate(layout.globalCa, layout.globalCaKey);
    const rootPem = readFileSync(layout.rootCa, 'utf8');
    const issue = (subject, extra = {}) => issueCertificate(globalCa, { subject, dns: ['localhost'], ip: ['127.0.0.1'], ...extra });

    // user-service, its material in a secret volume.
    const serverVolume = new SecretVolume(join(work, 'user-service'));
    let serverCert = await issue('CN=user-service,O=nest-mtls');
    let trustPem = rootPem;
    const publishServer = (cert, trust = trustPem) => serverVolume.update({ 'tls.crt': cert.chainPem, 'tls.key': cert.keyPem, 'ca.crt': trust });
    publishServer(serverCert);
    const userPort = await freePort();
    const user = await startService('user-service', {
      PORT: String(userPort),
      LOG_LEVEL: 'debug',
      MTLS_CERT_PATH: serverVolume.path('tls.crt'),
      MTLS_KEY_PATH: serverVolume.path('tls.key'),
      MTLS_TRUST_STORE_PATH: serverVolume.path('ca.crt'),
    });
    children.push(user);

    // home-page-service, its client material in a secret volume of its own.
    const clientVolume = new SecretVolume(join(work, 'home-page-service'));
    // Its SPIFFE ID too, as the development PKI gives it: user-service's GET /users (on the home page) admits it by that.
    const homeSpiffe = { uri: ['spiffe://example.org/home-page-service'] };
    const homeCert = await issue('CN=home-page-service,O=nest-mtls', homeSpiffe);
    clientVolume.update({ 'tls.crt': homeCert.chainPem, 'tls.key': homeCert.keyPem, 'ca.crt': rootPem });
    const homePort = await freePort();
    const home = await startService('home-page-service', {
      PORT: String(homePort),
      USER_SERVICE_URL: `https://localhost:${userPort}`,
      MTLS_CERT_PATH: clientVolume.path('tls.crt'),
      MTLS_KEY_PATH: clientVolume.path('tls.key'),
      MTLS_TRUST_STORE_PATH: clientVolume.path('ca.crt'),
    });
    children.push(home);

    // The load, from a second process.
    const loadCert = await issue('CN=load-client,O=nest-mtls');
    const load = fork(join(__dirname, 'reliability', 'load-client.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(load);
    const seen = []; // { serial, at } of each new connection
    const failures = [];
    let totals;
    const finished = new Promise((resolve) => load.on('message', (m) => (m.type === 'totals' ? resolve((totals = m)) : undefined)));
    const started = new Promise((resolve) => load.on('message', (m) => (m.type === 'started' ? resolve() : undefined)));
    load.on('message', (m) => {
      if (m.type === 'serial') seen.push(m);
      else if (m.type === 'failure') failures.push(m);
    });
    load.send({ port: userPort, path: '/health', ca: rootPem, cert: loadCert.chainPem, key: loadCert.keyPem, keepAliveWorkers: 4, newConnectionWorkers: 2 });
    await started;
    await sleep(500);

    /** Waits until new connections are served `serial`; ms from `since`, or Infinity past the limit. */
    const servedWithin = async (serial, since) => {
      const target = serial.toUpperCase();
      while (Date.now() - since <= SWAP_LIMIT_MS + 1000) {
        const hit = seen.find((s) => s.serial === target && s.at >= since);
        if (hit) return hit.at - since;
        await sleep(20);
      }
      return Infinity;
    };

    const swaps = [];
    let brokenSerial;
    for (let i = 1; i <= rotations; i++) {
      if (i === Math.ceil(rotations / 2)) {
        // Half-written material: written, watched, refused; the previous certificate stays.
        const broken = await issue('CN=user-service,O=nest-mtls');
        brokenSerial = broken.certificate.serialNumber.toUpperCase();
        serverVolume.update({ 'tls.crt': broken.chainPem.slice(0, 400), 'tls.key': broken.keyPem, 'ca.crt': trustPem });
        await sleep(1500);
      }
      serverCert = await issue('CN=user-service,O=nest-mtls');
      const since = Date.now();
      publishServer(serverCert);
      swaps.push(await servedWithin(serverCert.certificate.serialNumber, since));
    }

    // A second CA: old and new overlap in the trust store; a client of the new CA gets in, the old ones keep going.
    const newRoot = await createRootCa({ subject: 'CN=nest-mtls Root CA 2,O=nest-mtls' });
    const newCaClient = await issueCertificate(newRoot, { subject: 'CN=new-ca-client,O=nest-mtls' });
    const newCaTls = { ca: rootPem, cert: newCaClient.chainPem, key: newCaClient.keyPem };
    const newCaBefore = await httpsStatus(userPort, '/health', newCaTls);
    trustPem = rootPem + newRoot.certPem;
    const caSince = Date.now();
    publishServer(serverCert, trustPem);
    let newCaAfter;
    let newCaMs = Infinity;
    while (Date.now() - caSince <= SWAP_LIMIT_MS + 1000) {
      newCaAfter = await httpsStatus(userPort, '/health', newCaTls);
      if (newCaAfter === 200) {
        newCaMs = Date.now() - caSince;
        break;
      }
      await sleep(50);
    }

    // home-page-service's own certificate swapped to another subject: user-service sees it on new calls.
    const rotatedSubject = 'CN=home-page-service,OU=rotated,O=nest-mtls';
    const rotatedHome = await issue(rotatedSubject, homeSpiffe);
    const outboundSince = Date.now();
    clientVolume.update({ 'tls.crt': rotatedHome.chainPem, 'tls.key': rotatedHome.keyPem, 'ca.crt': rootPem });
    let outboundMs = Infinity;
    let homeFailures = 0;
    while (Date.now() - outboundSince <= SWAP_LIMIT_MS + 1000) {
      const status = await httpStatus(homePort, '/');
      if (status !== 200) homeFailures++;
      if (user.output.includes(`read by ${rotatedSubject}`)) {
        outboundMs = Date.now() - outboundSince;
        break;
      }
      await sleep(50);
    }

    load.send('stop');
    await finished;
    const brokenServed = seen.some((s) => s.serial === brokenSerial);
    /** @type {{ rotations: number, swapMs: number[], slowestSwapMs: number, medianSwapMs: number, brokenServed: boolean, requests: { keepAlive: number, newConnections: number, failed: number, failures: Record<string, number> }, newCa: { before: unknown, after: unknown, ms: number }, outbound: { ms: number, failedPageLoads: number }, pass?: boolean }} */
    const report = {
      rotations,
      swapMs: swaps,
      slowestSwapMs: Math.max(...swaps),
      medianSwapMs: [...swaps].sort((a, b) => a - b)[Math.floor(swaps.length / 2)],
      brokenServed,
      requests: { keepAlive: totals.keepAliveOk, newConnections: totals.newConnectionOk, failed: totals.failed, failures: totals.failures },
      newCa: { before: newCaBefore, after: newCaAfter, ms: newCaMs },
      outbound: { ms: outboundMs, failedPageLoads: homeFailures },
    };
    report.pass =
      report.requests.failed === 0 &&
      swaps.every((ms) => ms <= SWAP_LIMIT_MS) &&
      !brokenServed &&
      newCaBefore !== 200 &&
      newCaAfter === 200 &&
      newCaMs <= SWAP_LIMIT_MS &&
      outboundMs <= SWAP_LIMIT_MS &&
      homeFailures === 0;
    log(`rotations of the server certificate (..data swaps): ${rotations}, each served to new handshakes after median ${report.medianSwapMs} ms, slowest ${report.slowestSwapMs} ms (limit ${SWAP_LIMIT_MS} ms)`);
    log(`truncated certificate written once: ${brokenServed ? 'SERVED' : 'never served'}`);
    log(`requests during the run: ${report.requests.keepAlive} keep-alive, ${report.requests.newConnections} on new connections (a full handshake each), failed: ${report.requests.failed}${report.requests.failed ? ` ${JSON.stringify(report.requests.failures)}` : ''}`);
    log(`second CA added: its client before ${newCaBefore}, after ${newCaAfter} (${newCaMs} ms)`);
    log(`home-page-service's certificate swapped to ${rotatedSubject}: user-service saw it after ${outboundMs} ms; failed page loads: ${homeFailures}`);
    log(report.pass ? 'all targets hold' : 'TARGETS MISSED');
    return report;
  } finally {
    for (const child of children.reverse()) {
      if (child.connected) child.disconnect?.();
      await stop(child);
    }
    rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { runReliability };

if (require.main === module) {
  require('node:child_process').execFileSync(process.execPath, [join(__dirname, 'ensure-built.js')], { stdio: 'inherit' });
  runReliability({ rotations: Number(process.env.ROTATIONS ?? 20) })
    .then((report) => process.exit(report.pass ? 0 : 1))
    .catch((err) => {
      process.stderr.write(`reliability run failed: ${err.stack ?? err}\n`);
      process.exit(2);
    });
}
