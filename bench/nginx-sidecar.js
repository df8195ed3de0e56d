'use strict';
/*
 * The nginx mTLS sidecar of `npm run bench`: nginx (1 worker) terminating
 * mutual TLS with user-service's key, chain and trust store (the same
 * demands: a verified client certificate, TLS 1.2 to 1.3), passing requests
 * over plain HTTP on loopback with kept-alive upstream connections to the
 * plain Nest + Fastify reference (bench/nest-fastify-server.js with
 * REFERENCE_PLAIN_HTTP=1), which admits the subject nginx forwards
 * (`X-SSL-Client-S-DN: $ssl_client_s_dn`). Its CPU per answer is nginx's
 * (master and worker) plus the app's.
 *
 * nginx is installed when missing (`apt-get update && apt-get install -y
 * nginx-light`, as root), as .ci/run installs the tools the tests need.
 */
const { execFileSync, spawn } = require('node:child_process');
const { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const processes = require('./processes');

const NGINX_PATHS = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx'];

function findNginx() {
  return NGINX_PATHS.find((file) => existsSync(file));
}

/** The nginx binary; installs nginx-light with apt-get when there is none (root only). Throws with what to do otherwise. */
function ensureNginx(log = console.log) {
  let nginx = findNginx();
  if (nginx) return nginx;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new Error('nginx is not installed, and the bench can install it only as root with apt-get: apt-get install nginx-light (or BENCH_NGINX=0)');
  }
  log('bench: nginx missing: apt-get update && apt-get install -y nginx-light');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'nginx-light'], { stdio: 'inherit', env });
  nginx = findNginx();
  if (!nginx) throw new Error('apt-get installed nginx-light, but no nginx binary was found');
  return nginx;
}

/** nginx.conf of the sidecar: `port` (TLS, mTLS) in front of `upstreamPort` (plain HTTP), everything under `dir`. */
function sidecarConfig({ dir, port, upstreamPort, key, chain, trustStore }) {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app {
    server 127.0.0.1:${upstreamPort};
    keepalive 32;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${chain};
    ssl_certificate_key ${key};
    ssl_client_certificate ${trustStore};
    ssl_verify_client on;
    ssl_verify_depth 4;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets on;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-SSL-Client-S-DN $ssl_client_s_dn;
    }
  }
}
`;
}

/** PIDs of the children of `pid` (nginx's worker under its master). */
function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Starts the plain reference app (plain HTTP) and nginx in front of it, both
 * pinned to `cpu`. Resolves with `{ port, pids: () => [...], children }`: the
 * TLS port and the processes whose CPU counts (the app, nginx's master and worker).
 */
async function startNginxSidecar({ nginx, tmpDir, root, cpu, pki, env }) {
  const user = pki.service('user-service');
  const dir = path.join(tmpDir, 'nginx');
  mkdirSync(dir, { recursive: true });
  const upstreamPort = await processes.freePort();
  const app = processes.startServer({
    name: 'Nest + Fastify reference (plain HTTP, behind nginx)',
    script: path.join(root, 'bench/nest-fastify-server.js'),
    cwd: root,
    logFile: path.join(tmpDir, 'nest-fastify-behind-nginx.log'),
    cpu,
    env: { ...env, PORT: String(upstreamPort), HOST: '127.0.0.1', REFERENCE_PLAIN_HTTP: '1' },
  });
  await processes.waitForReady(app, /listening on/, 60000);
  const port = await processes.freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, sidecarConfig({ dir, port, upstreamPort, key: user.key, chain: user.chain, trustStore: pki.trustStore }));
  const logFile = path.join(dir, 'stdout.log');
  const out = openSync(logFile, 'a');
  const pin = processes.taskset();
  const [command, args] = pin && cpu !== undefined ? [pin, ['-c', String(cpu), nginx, '-p', dir, '-c', conf]] : [nginx, ['-p', dir, '-c', conf]];
  const child = spawn(command, args, { stdio: ['ignore', out, out] });
  closeSync(out);
  child.benchName = 'nginx sidecar';
  child.logFile = path.join(dir, 'error.log');
  processes.track(child);
  await waitForPort(child, port, 20000);
  // A SIGKILLed master (the bench's last resort on exit) leaves its worker running: kill the worker too.
  const workers = childrenOf(child.pid);
  process.on('exit', () => {
    for (const pid of workers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  });
  return { child: app, nginx: child, port, pids: () => [app.pid, child.pid, ...childrenOf(child.pid)] };
}

/** Resolves when something accepts on `port` (nginx prints nothing when it is up). */
async function waitForPort(child, port, timeoutMs) {
  const net = require('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}):\n${processes.tail(processes.logOf(child))}`);
    const open = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} within ${timeoutMs} ms:\n${processes.tail(processes.logOf(child))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

module.exports = { ensureNginx, startNginxSidecar, sidecarConfig };
