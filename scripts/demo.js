#!/usr/bin/env node
/*
 * npm run demo: starts user-service, home-page-service and event-service with
 * the development PKI, makes the calls the article makes, prints a table of
 * expected and actual outcomes, stops the services, and exits 0 only when all
 * are as expected.
 *
 * Ports: USER_SERVICE_PORT (8443), USER_SERVICE_TCP_PORT (8444: user-service's
 * Nest microservice over TCP with mTLS), USER_SERVICE_GRPC_PORT (8445: its gRPC
 * service users.UserService over mTLS), HOME_PAGE_PORT (3000), EVENT_PORT (3001);
 * admin ports (plain HTTP: /health, /metrics, /policies): USER_SERVICE_ADMIN_PORT (8081),
 * HOME_PAGE_ADMIN_PORT (3080), EVENT_ADMIN_PORT (3081).
 * PKI: MTLS_DEV_PKI_DIR (default ./.dev-pki, created on first use).
 * After the table it prints the admin URLs and the lines of user-service's
 * /metrics these calls moved; those counts are part of what must be as expected.
 */
const { spawn, execSync } = require('node:child_process');
const { request: httpRequest } = require('node:http');
const { request: httpsRequest } = require('node:https');
const { existsSync, readFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = join(__dirname, '..');
const ports = {
  user: Number(process.env.USER_SERVICE_PORT ?? 8443),
  userTcp: Number(process.env.USER_SERVICE_TCP_PORT ?? 8444),
  userGrpc: Number(process.env.USER_SERVICE_GRPC_PORT ?? 8445),
  home: Number(process.env.HOME_PAGE_PORT ?? 3000),
  event: Number(process.env.EVENT_PORT ?? 3001),
  userAdmin: Number(process.env.USER_SERVICE_ADMIN_PORT ?? 8081),
  homeAdmin: Number(process.env.HOME_PAGE_ADMIN_PORT ?? 3080),
  eventAdmin: Number(process.env.EVENT_ADMIN_PORT ?? 3081),
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
  if (!extraEnv.GRPC_PORT) delete env.GRPC_PORT;
  if (!extraEnv.ADMIN_PORT) delete env.ADMIN_PORT;
  delete env.ADMIN_HOST; // 127.0.0.1
  for (const k of Object.keys(env)) if (k.startsWith('MTLS_') && k !== 'MTLS_DEV_PKI_DIR') delete env[k];
  const child = spawn(process.execPath, [main_js(app)], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  child.app = app;
  children.push(child);
  return child;
}

/**
 * Resolves once the service's admin port answers /health with 200: its
 * listeners are up and its material is good. (Probing the TLS ports with a bare
 * TCP connection would itself be a refused handshake, counted in the metrics.)
 */
function waitForHealth(child, adminPort, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolveWait, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`${child.app} exited with ${child.exitCode}:\n${child.output}`));
      get(httpRequest, { host: '127.0.0.1', port: adminPort, path: '/health', timeout: 2000 }).then(
        (res) => (res.status === 200 ? resolveWait() : retry()),
        retry,
      );
    };
    const retry = () => {
      if (Date.now() > deadline) reject(new Error(`${child.app} was not healthy on its admin port ${adminPort} within ${timeoutMs} ms:\n${child.output}`));
      else setTimeout(attempt, 200);
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
  let upstream;
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
  // 8.-9. The same over a WebSocket on user-service's HTTPS port (wss://…/ws, message get_user).
  const ws = 'user-service wss get_user';
  rows.push({ caller: 'home-page-service', callee: ws, expected: 'user 1', actual: await wsCall('home-page-service') });
  rows.push({ caller: 'event-service', callee: ws, expected: 'ws error', actual: await wsCall('event-service') });
  // 10.-11. The same over gRPC (users.UserService/GetUser, GRPC_PORT), the policy of GET /users.
  const grpc = 'user-service gRPC GetUser';
  rows.push({ caller: 'home-page-service', callee: grpc, expected: 'user 1', actual: await grpcCall('home-page-service') });
  rows.push({ caller: 'event-service', callee: grpc, expected: 'PERMISSION_DENIED', actual: await grpcCall('event-service') });
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
  const { mtlsOptionsWithDevPki } = require('nest-mtls/dev-pki');
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

/**
 * users.UserService/GetUser { id: 1 } over gRPC with mTLS (@grpc/grpc-js,
 * users.proto as the demo ships it), presenting `service`'s certificate from
 * the dev PKI and requiring user-service's SPIFFE ID of the server: 'user 1',
 * 'PERMISSION_DENIED' (with the article's message), or what came instead.
 */
async function grpcCall(service) {
  const { MtlsMaterialSource } = require('nest-mtls');
  const { mtlsGrpcCredentials } = require('nest-mtls/grpc');
  const { mtlsOptionsWithDevPki } = require('nest-mtls/dev-pki');
  const { loadPackageDefinition } = require('@grpc/grpc-js');
  const { loadSync } = require('@grpc/proto-loader');
  require('@nestjs/common').Logger.overrideLogger(false);
  const source = await MtlsMaterialSource.create(await mtlsOptionsWithDevPki(service, { devPki: true, env: { MTLS_DEV_PKI_DIR: pkiDir } }));
  const { users } = loadPackageDefinition(loadSync(join(root, 'apps', 'user-service', 'src', 'users.proto')));
  const client = new users.UserService(`localhost:${ports.userGrpc}`, mtlsGrpcCredentials(source, { serverIdentity: { spiffeId: userServiceSpiffeId } }));
  try {
    const user = await new Promise((resolvePromise, reject) => client.GetUser({ id: 1 }, { deadline: Date.now() + 10000 }, (err, answer) => (err ? reject(err) : resolvePromise(answer))));
    return user?.id === 1 && user?.name === 'Ada Lovelace' ? 'user 1' : `answered ${JSON.stringify(user)}`;
  } catch (err) {
    if (err?.code === 7) return err.details === 'Certificate subject is not recognized!' ? 'PERMISSION_DENIED' : `PERMISSION_DENIED (${err.details})`;
    return `failed (${err?.details ?? err?.message ?? err})`;
  } finally {
    client.close();
  }
}

/**
 * { event: 'get_user', data: { id: 1 } } over wss://localhost:PORT/ws,
 * presenting `service`'s certificate from the dev PKI: 'user 1', 'ws error'
 * (the `exception` event with the article's message), or what came instead.
 */
function wsCall(service) {
  const WebSocket = require('ws');
  return new Promise((resolvePromise) => {
    const ws = new WebSocket(`wss://localhost:${ports.user}/ws`, {
      cert: readFileSync(join(pkiDir, `${service}.chain.pem`)),
      key: readFileSync(join(pkiDir, `${service}.key`)),
      ca: readFileSync(join(pkiDir, 'truststore.pem')),
    });
    const done = (outcome) => {
      clearTimeout(timer);
      ws.terminate();
      resolvePromise(outcome);
    };
    const timer = setTimeout(() => done('no answer'), 10000);
    ws.once('open', () => ws.send(JSON.stringify({ event: 'get_user', data: { id: 1 } })));
    ws.once('message', (raw) => {
      const { event, data } = JSON.parse(raw.toString());
      if (event === 'user' && data?.id === 1 && data?.name === 'Ada Lovelace') return done('user 1');
      if (event === 'exception') return done(data?.message === 'Certificate subject is not recognized!' ? 'ws error' : `ws error (${data?.message})`);
      done(`answered ${raw.toString().slice(0, 200)}`);
    });
    ws.once('error', (err) => done(`failed (${err.message})`));
  });
}

/**
 * The admin ports, and the samples of user-service's /metrics the calls above
 * moved, checked against what they must be: the allowed and refused calls by
 * route and message pattern (TCP, WebSocket and gRPC), and the failed handshakes by reason.
 */
async function adminReport() {
  const admins = [
    ['user-service', ports.userAdmin],
    ['home-page-service', ports.homeAdmin],
    ['event-service', ports.eventAdmin],
  ];
  console.log('\nadmin ports (plain HTTP, no client certificate):');
  for (const [app, port] of admins) {
    const health = await get(httpRequest, { host: '127.0.0.1', port, path: '/health' });
    const status = JSON.parse(health.body).status;
    console.log(`  ${app.padEnd(17)}  http://127.0.0.1:${port}/health (${status})  http://127.0.0.1:${port}/metrics  http://127.0.0.1:${port}/policies`);
  }
  const metrics = (await get(httpRequest, { host: '127.0.0.1', port: ports.userAdmin, path: '/metrics' })).body;
  const moved = metrics.split('\n').filter((l) => /^mtls_(guard_decisions_total|handshake_failures_total)\{/.test(l) && !/ 0$/.test(l));
  console.log(`\nuser-service /metrics, the samples these calls moved:`);
  for (const line of moved) console.log(`  ${line}`);
  const expected = [
    'mtls_guard_decisions_total{route="/users",outcome="allowed"} 1',
    'mtls_guard_decisions_total{route="/users.UserService/GetUser",outcome="allowed"} 1',
    'mtls_guard_decisions_total{route="/users.UserService/GetUser",outcome="refused"} 1',
    'mtls_guard_decisions_total{route="/users/:id",outcome="allowed"} 1',
    'mtls_guard_decisions_total{route="/users/:id",outcome="refused"} 1',
    'mtls_guard_decisions_total{route="{\\"cmd\\":\\"get_user\\"}",outcome="allowed"} 1',
    'mtls_guard_decisions_total{route="{\\"cmd\\":\\"get_user\\"}",outcome="refused"} 1',
    'mtls_guard_decisions_total{route="get_user",outcome="allowed"} 1',
    'mtls_guard_decisions_total{route="get_user",outcome="refused"} 1',
    'mtls_handshake_failures_total{reason="no_certificate"} 2',
    'mtls_handshake_failures_total{reason="protocol"} 1',
  ];
  const ok = expected.length === moved.length && expected.every((line) => moved.includes(line));
  if (!ok) console.log(`\nMETRICS NOT AS EXPECTED; expected:\n${expected.map((l) => `  ${l}`).join('\n')}`);
  return ok;
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
  const user = start('user-service', ports.user, { TCP_PORT: String(ports.userTcp), GRPC_PORT: String(ports.userGrpc), ADMIN_PORT: String(ports.userAdmin) });
  const home = start('home-page-service', ports.home, { ADMIN_PORT: String(ports.homeAdmin) });
  const event = start('event-service', ports.event, { ADMIN_PORT: String(ports.eventAdmin) });
  await Promise.all([waitForHealth(user, ports.userAdmin), waitForHealth(home, ports.homeAdmin), waitForHealth(event, ports.eventAdmin)]);
  console.log(`\nservices up: user-service https://localhost:${ports.user}, wss://localhost:${ports.user}/ws, tcp://localhost:${ports.userTcp} and gRPC localhost:${ports.userGrpc}, home-page-service http://localhost:${ports.home}, event-service http://localhost:${ports.event}\n`);
  const rows = await calls();
  printTable(rows);
  const callsOk = rows.every((r) => r.expected === r.actual);
  console.log(callsOk ? '\nall calls as expected' : '\nSOME CALLS WERE NOT AS EXPECTED');
  const metricsOk = await adminReport().catch((err) => {
    console.log(`\nthe admin ports could not be read: ${err.message}`);
    return false;
  });
  const ok = callsOk && metricsOk;
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
