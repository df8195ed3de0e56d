#!/usr/bin/env node
/*
 * npm run demo: starts user-service, home-page-service and event-service with
 * the development PKI, makes the calls the article makes, prints a table of
 * expected and actual outcomes, stops the services, and exits 0 only when all
 * are as expected.
 *
 * Ports: USER_SERVICE_PORT (8443), USER_SERVICE_TCP_PORT (8444: user-service's
 * Nest microservice over TCP with mTLS), HOME_PAGE_PORT (3000), EVENT_PORT (3001).
 * PKI: MTLS_DEV_PKI_DIR (default ./.dev-pki, created on first use).
 */
const { spawn, execSync } = require('node:child_process');
const { request: httpRequest } = require('node:http');
const { request: httpsRequest } = require('node:https');
const { connect: netConnect } = require('node:net');
const { existsSync, readFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = join(__dirname, '..');
const ports = {
  user: Number(process.env.USER_SERVICE_PORT ?? 8443),
  userTcp: Number(process.env.USER_SERVICE_TCP_PORT ?? 8444),
  home: Number(process.env.HOME_PAGE_PORT ?? 3000),
  event: Number(process.env.EVENT_PORT ?? 3001),
};
const pkiDir = resolve(process.env.MTLS_DEV_PKI_DIR ?? join(root, '.dev-pki'));
const userServiceUrl = `https://localhost:${ports.user}`;
/** Who user-service must be for its callers, besides its name: its SPIFFE ID in the development PKI. */
const userServiceSpiffeId = 'spiffe://example.org/user-service';
const children = [];

function main_js(app) {
  return join(root, 'dist', 'apps', app, 'apps', app, 'src', 'main.js');
}

function start(app, port, extraEnv = {}) {
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', USER_SERVICE_URL: userServiceUrl, USER_SERVICE_SPIFFE_ID: userServiceSpiffeId, MTLS_DEV_PKI_DIR: pkiDir, ...extraEnv };
  if (!extraEnv.TCP_PORT) delete env.TCP_PORT;
  for (const k of Object.keys(env)) if (k.startsWith('MTLS_') && k !== 'MTLS_DEV_PKI_DIR') delete env[k];
  const child = spawn(process.execPath, [main_js(app)], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  child.app = app;
  children.push(child);
  return child;
}

function waitForPort(child, port, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolveWait, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`${child.app} exited with ${child.exitCode}:\n${child.output}`));
      const socket = netConnect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolveWait();
      });
      socket.on('error', () => {
        if (Date.now() > deadline) reject(new Error(`${child.app} did not listen on ${port} within ${timeoutMs} ms:\n${child.output}`));
        else setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

function get(requestFn, options) {
  return new Promise((resolveGet, reject) => {
    const req = requestFn({ timeout: 10000, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolveGet({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function calls() {
  const rows = [];
  // 1. home-page-service -> user-service: allowed.
  const home = await get(httpRequest, { host: '127.0.0.1', port: ports.home, path: '/' });
  rows.push({
    caller: 'home-page-service',
    callee: 'user-service GET /users/1',
    expected: '200',
    actual: home.status === 200 && home.body.includes('Ada Lovelace') ? '200' : `${home.status} (home page answered ${home.status})`,
  });
  // The list, which user-service grants home-page-service by its SPIFFE ID (spiffe://example.org/home-page-service).
  rows.push({
    caller: 'home-page-service',
    callee: 'user-service GET /users',
    expected: '200',
    actual: home.status === 200 && home.body.includes('Alan Turing') ? '200' : `${home.status} (no list on the home page)`,
  });
  // 2. event-service -> user-service: trusted certificate, refused by the policy.
  const event = await get(httpRequest, { host: '127.0.0.1', port: ports.event, path: '/' });
  let upstream = `${event.status}`;
  try {
    const parsed = JSON.parse(event.body);
    upstream = parsed.upstream?.status ? String(parsed.upstream.status) : `${event.status} (${parsed.message})`;
  } catch {
    upstream = `${event.status} (not JSON)`;
  }
  rows.push({ caller: 'event-service', callee: 'user-service GET /users/1', expected: '403', actual: upstream });
  // 3. a client without a certificate -> user-service: the handshake is refused.
  const ca = readFileSync(join(pkiDir, 'truststore.pem'));
  let noCert;
  try {
    const res = await get(httpsRequest, { host: '127.0.0.1', port: ports.user, path: '/health', ca, servername: 'localhost', agent: false });
    noCert = String(res.status);
  } catch {
    noCert = 'refused';
  }
  rows.push({ caller: '(no certificate)', callee: 'user-service GET /health', expected: 'refused', actual: noCert });
  // 4. plain HTTP to the TLS port: no HTTP answer.
  const plain = await get(httpRequest, { host: '127.0.0.1', port: ports.user, path: '/health' }).then(
    (r) => String(r.status),
    () => 'refused',
  );
  rows.push({ caller: '(plain HTTP)', callee: 'user-service GET /health', expected: 'refused', actual: plain });
  // 5.-7. The same over Nest's TCP transport: a real Nest ClientProxy (MtlsTcpClient) with each service's certificate.
  const tcp = 'user-service TCP get_user';
  rows.push({ caller: 'home-page-service', callee: tcp, expected: 'user 1', actual: await tcpCall('home-page-service') });
  rows.push({ caller: 'event-service', callee: tcp, expected: 'RPC error', actual: await tcpCall('event-service') });
  rows.push({ caller: '(no certificate)', callee: tcp, expected: 'refused', actual: await tcpCall(undefined) });
  return rows;
}

/**
 * { cmd: 'get_user' } with { id: 1 } over TCP with mTLS, presenting `service`'s
 * certificate from the dev PKI (or none): 'user 1', 'RPC error' (the article's
 * message), 'refused' (no answer: the handshake failed), or what came instead.
 */
async function tcpCall(service) {
  // The built package, loaded only now (after ensure-built).
  const { MtlsMaterialSource } = require('nest-mtls');
  const { MtlsTcpClient } = require('nest-mtls/microservices');
  const { mtlsOptionsWithDevPki } = require('nest-mtls/testing');
  const { ClientProxyFactory, Transport } = require('@nestjs/microservices');
  const { lastValueFrom, timeout } = require('rxjs');
  // The demo's own clients stay quiet (dev PKI warnings, Nest's log of the refused handshake): the table says what happened.
  require('@nestjs/common').Logger.overrideLogger(false);
  const client = service
    ? new MtlsTcpClient({
        source: await MtlsMaterialSource.create(await mtlsOptionsWithDevPki(service, { devPki: true, env: { MTLS_DEV_PKI_DIR: pkiDir } })),
        host: 'localhost',
        port: ports.userTcp,
      })
    : ClientProxyFactory.create({ transport: Transport.TCP, options: { host: 'localhost', port: ports.userTcp, tlsOptions: { ca: readFileSync(join(pkiDir, 'truststore.pem')) } } });
  client.on?.('error', () => undefined);
  try {
    const user = await lastValueFrom(client.send({ cmd: 'get_user' }, { id: 1 }).pipe(timeout(10000)));
    return user?.id === 1 && user?.name === 'Ada Lovelace' ? 'user 1' : `answered ${JSON.stringify(user)}`;
  } catch (err) {
    if (err?.status === 'error') return err.message === 'Certificate subject is not recognized!' ? 'RPC error' : `RPC error (${err.message})`;
    return service ? `failed (${err?.message ?? err})` : 'refused';
  } finally {
    client.close();
  }
}

function printTable(rows) {
  const head = { caller: 'caller', callee: 'callee', expected: 'expected', actual: 'actual', ok: 'ok' };
  const all = [head, ...rows.map((r) => ({ ...r, ok: r.expected === r.actual ? 'yes' : 'NO' }))];
  const widths = Object.keys(head).map((k) => Math.max(...all.map((r) => String(r[k]).length)));
  for (const [i, r] of all.entries()) {
    console.log(Object.keys(head).map((k, j) => String(r[k]).padEnd(widths[j])).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

async function stopAll() {
  await Promise.all(
    children.map(
      (c) =>
        new Promise((done) => {
          if (c.exitCode !== null || c.signalCode !== null) return done();
          c.once('exit', done);
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 5000).unref();
        }),
    ),
  );
}

/** True when every demo service's certificate in the PKI carries its SPIFFE ID. */
function hasSpiffeIds(dir) {
  const { X509Certificate } = require('node:crypto');
  return ['user-service', 'home-page-service', 'event-service'].every((service) => {
    try {
      const san = new X509Certificate(readFileSync(join(dir, `${service}.crt`))).subjectAltName ?? '';
      return san.split(', ').includes(`URI:spiffe://example.org/${service}`);
    } catch {
      return false;
    }
  });
}

async function main() {
  execSync(`${process.execPath} ${join(__dirname, 'ensure-built.js')}`, { stdio: 'inherit' });
  // The services create the dev PKI on first use; make it once here, with the mtls tool, so the run shows it.
  // A PKI made before the services had SPIFFE IDs is made again (the SPIFFE rules would refuse its certificates).
  const stale = existsSync(join(pkiDir, 'truststore.pem')) && !hasSpiffeIds(pkiDir);
  if (stale) console.log(`${pkiDir} predates SPIFFE IDs (spiffe://example.org/<service>): making it again`);
  if (!existsSync(join(pkiDir, 'truststore.pem')) || stale) {
    execSync(`${process.execPath} ${join(root, 'libs', 'mtls', 'bin', 'mtls.js')} pki init ${JSON.stringify(pkiDir)}${stale ? ' --force' : ''}`, { stdio: 'inherit' });
  }
  const user = start('user-service', ports.user, { TCP_PORT: String(ports.userTcp) });
  const home = start('home-page-service', ports.home);
  const event = start('event-service', ports.event);
  await Promise.all([waitForPort(user, ports.user), waitForPort(user, ports.userTcp), waitForPort(home, ports.home), waitForPort(event, ports.event)]);
  console.log(`\nservices up: user-service https://localhost:${ports.user} and tcp://localhost:${ports.userTcp}, home-page-service http://localhost:${ports.home}, event-service http://localhost:${ports.event}\n`);
  const rows = await calls();
  printTable(rows);
  const ok = rows.every((r) => r.expected === r.actual);
  console.log(ok ? '\nall calls as expected' : '\nSOME CALLS WERE NOT AS EXPECTED');
  if (!ok || process.env.DEMO_VERBOSE) for (const c of children) console.log(`\n--- ${c.app} output ---\n${c.output}`);
  return ok;
}

main()
  .then(async (ok) => {
    await stopAll();
    process.exit(ok ? 0 : 1);
  })
  .catch(async (err) => {
    console.error(`demo failed: ${err.message}`);
    await stopAll();
    process.exit(1);
  });
