#!/usr/bin/env node
'use strict';
/*
 * The load generator of `npm run bench`, run as its own child process (so that
 * on a 2-core machine the server under test and the generator each get a
 * core). It talks to the parent over IPC:
 *
 *   parent -> { type: 'init', key, cert, ca, servername }        (file paths)
 *   parent -> { type: 'run', id, mode, port, path, seconds, concurrency, bucketMs? }
 *   child  -> { type: 'mark', id, phase: 'start' | 'end' }       (measured window)
 *   child  -> { type: 'result', id, result } | { type: 'failed', id, error }
 *
 * Modes (all over raw tls sockets with a minimal HTTP/1.1 reader, much cheaper
 * than Node's http client):
 *   keepalive  `concurrency` kept-alive connections, one request in flight each
 *   full       a new TLS connection per request, no session given: full handshake
 *   resumed    a new TLS connection per request, resuming the last ticket this
 *              worker received (TLS 1.3 PSK); socket.isSessionReused() is counted
 * Only responses completed inside the measured window count. With `bucketMs`,
 * the result also has `buckets`: 200 answers per slice of the window, by the
 * time they completed (the reload-under-load run reads handshakes/s per 250 ms).
 */
const tls = require('node:tls');
const { readFileSync } = require('node:fs');
const { performance } = require('node:perf_hooks');
const { HttpResponseReader } = require('./http-response-reader');

const MAX_ERRORS = 2000;
const CONNECT_TIMEOUT_MS = 10000;

let material = null;

/** One secure context for all connections: building it per connection (key, chain, CA parsing) costs more than a handshake. */
function tlsOptions(port) {
  return { host: '127.0.0.1', port, secureContext: material.secureContext, servername: material.servername, minVersion: 'TLSv1.2' };
}

function requestBytes(port, path, close) {
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: application/json\r\n${close ? 'Connection: close\r\n' : ''}\r\n`, 'latin1');
}

function newTally(window, bucketMs) {
  return { ok: 0, statuses: {}, errors: {}, errorCount: 0, connections: 0, reused: 0, protocol: null, cipher: null, window, bucketMs, buckets: bucketMs ? [] : undefined, errorBuckets: bucketMs ? [] : undefined };
}

/** The slice of the window `now` falls in. */
function bucketOf(tally) {
  return Math.floor((performance.now() - tally.window.startedAt) / tally.bucketMs);
}

function countStatus(tally, status) {
  tally.statuses[status] = (tally.statuses[status] || 0) + 1;
  if (status === 200) {
    tally.ok++;
    if (tally.buckets) {
      const b = bucketOf(tally);
      tally.buckets[b] = (tally.buckets[b] || 0) + 1;
    }
  }
}

function countError(tally, err) {
  const code = (err && (err.code || err.message)) || 'error';
  tally.errors[code] = (tally.errors[code] || 0) + 1;
  tally.errorCount++;
  if (tally.errorBuckets) {
    const b = bucketOf(tally);
    tally.errorBuckets[b] = (tally.errorBuckets[b] || 0) + 1;
  }
}

/** A measured window: warm-up (`prepare`) outside it, then `seconds` inside it. */
class Window {
  constructor(id, seconds) {
    this.id = id;
    this.seconds = seconds;
    this.open = false;
    this.closed = false;
  }
  start() {
    this.open = true;
    this.startedAt = performance.now();
    this.cpuAtStart = process.cpuUsage();
    process.send({ type: 'mark', id: this.id, phase: 'start' });
    return new Promise((resolve) => {
      setTimeout(() => {
        this.open = false;
        this.closed = true;
        this.elapsedMs = performance.now() - this.startedAt;
        const cpu = process.cpuUsage(this.cpuAtStart);
        this.clientCpuMs = (cpu.user + cpu.system) / 1000;
        process.send({ type: 'mark', id: this.id, phase: 'end' });
        resolve();
      }, this.seconds * 1000);
    });
  }
}

/** One kept-alive connection that sends the next request as soon as the previous answer is complete. */
function keepAliveConnection(port, request, tally, window) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(tlsOptions(port));
    const reader = new HttpResponseReader();
    let warmed = false;
    let readyResolve;
    const ready = new Promise((r) => (readyResolve = r));
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), CONNECT_TIMEOUT_MS);
    socket.setNoDelay(true);
    socket.on('secureConnect', () => {
      clearTimeout(timer);
      tally.connections++;
      tally.protocol = socket.getProtocol();
      tally.cipher = socket.getCipher().name;
      socket.write(request);
    });
    socket.on('data', (chunk) => {
      let statuses;
      try {
        statuses = reader.push(chunk);
      } catch (err) {
        socket.destroy(err);
        return;
      }
      for (const status of statuses) {
        if (!warmed) {
          warmed = true;
          if (status !== 200) return socket.destroy(new Error(`warm-up request answered ${status}`));
          readyResolve();
        } else if (window.open) {
          countStatus(tally, status);
        }
        if (window.closed) return socket.end();
        socket.write(request);
      }
    });
    socket.on('error', (err) => {
      if (!warmed) return reject(err);
      if (!window.closed) countError(tally, err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (!warmed) reject(new Error('connection closed during warm-up'));
    });
    ready.then(() => resolve({ socket }));
  });
}

async function runKeepAlive(msg, window) {
  const tally = newTally(window, msg.bucketMs);
  const request = requestBytes(msg.port, msg.path, false);
  const conns = await Promise.all(Array.from({ length: msg.concurrency }, () => keepAliveConnection(msg.port, request, tally, window)));
  const closed = conns.map(({ socket }) => new Promise((r) => (socket.destroyed ? r() : socket.once('close', r))));
  await window.start();
  // Give in-flight answers a moment, then close what is left.
  await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 2000))]);
  for (const { socket } of conns) socket.destroy();
  return tally;
}

/** One connection, one request with `Connection: close`; resolves when the socket is closed. */
function oneShot(port, request, session, onSession) {
  return new Promise((resolve) => {
    const outcome = { status: null, error: null, reused: false, protocol: null, cipher: null };
    const socket = tls.connect(session ? { ...tlsOptions(port), session } : tlsOptions(port));
    const reader = new HttpResponseReader();
    const timer = setTimeout(() => socket.destroy(new Error('timeout')), CONNECT_TIMEOUT_MS);
    if (onSession) socket.on('session', onSession);
    socket.setNoDelay(true);
    socket.on('secureConnect', () => {
      outcome.reused = socket.isSessionReused();
      outcome.protocol = socket.getProtocol();
      outcome.cipher = socket.getCipher().name;
      socket.write(request);
    });
    socket.on('data', (chunk) => {
      try {
        const statuses = reader.push(chunk);
        if (statuses.length > 0 && outcome.status === null) {
          outcome.status = statuses[0];
          socket.end();
        }
      } catch (err) {
        socket.destroy(err);
      }
    });
    socket.on('error', (err) => {
      if (outcome.status === null && !outcome.error) outcome.error = err;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (outcome.status === null && !outcome.error) outcome.error = new Error('closed before an answer');
      resolve(outcome);
    });
  });
}

async function runHandshakes(msg, window, resume) {
  const tally = newTally(window, msg.bucketMs);
  const request = requestBytes(msg.port, msg.path, true);
  const workers = Array.from({ length: msg.concurrency }, () => ({ session: null }));
  const onSessionOf = (worker) => (resume ? (ticket) => (worker.session = ticket) : null);

  // Warm-up outside the window: one connection per worker (gets the first tickets).
  const warm = await Promise.all(workers.map((w) => oneShot(msg.port, request, null, onSessionOf(w))));
  const failed = warm.find((o) => o.error || o.status !== 200);
  if (failed) throw new Error(`warm-up connection failed: ${failed.error ? failed.error.code || failed.error.message : `status ${failed.status}`}`);
  if (resume && workers.some((w) => !w.session)) throw new Error('the server sent no session ticket');

  const windowDone = window.start();
  const loops = workers.map(async (worker) => {
    for (let n = 0; n < 10_000_000 && !window.closed; n++) {
      const o = await oneShot(msg.port, request, resume ? worker.session : null, onSessionOf(worker));
      if (!window.open) break; // finished after the window closed: not counted
      tally.connections++;
      tally.protocol = o.protocol || tally.protocol;
      tally.cipher = o.cipher || tally.cipher;
      if (o.reused) tally.reused++;
      if (o.error) {
        countError(tally, o.error);
        if (tally.errorCount > MAX_ERRORS) throw new Error(`more than ${MAX_ERRORS} errors, e.g. ${o.error.code || o.error.message}`);
        await new Promise((r) => setTimeout(r, 5));
      } else {
        countStatus(tally, o.status);
      }
    }
  });
  await Promise.all([windowDone, ...loops]);
  return tally;
}

async function run(msg) {
  const window = new Window(msg.id, msg.seconds);
  let tally;
  if (msg.mode === 'keepalive') tally = await runKeepAlive(msg, window);
  else if (msg.mode === 'full') tally = await runHandshakes(msg, window, false);
  else if (msg.mode === 'resumed') tally = await runHandshakes(msg, window, true);
  else throw new Error(`unknown mode ${msg.mode}`);
  const seconds = window.elapsedMs / 1000;
  delete tally.window;
  if (tally.buckets) {
    const n = Math.ceil(window.elapsedMs / tally.bucketMs);
    tally.buckets = Array.from({ length: n }, (_, i) => tally.buckets[i] || 0);
    tally.errorBuckets = Array.from({ length: n }, (_, i) => tally.errorBuckets[i] || 0);
  }
  return {
    ...tally,
    elapsedMs: window.elapsedMs,
    rate: tally.ok / seconds,
    clientCpuShare: window.clientCpuMs / window.elapsedMs,
  };
}

process.on('message', (msg) => {
  if (msg.type === 'init') {
    material = {
      secureContext: tls.createSecureContext({
        key: readFileSync(msg.key),
        cert: readFileSync(msg.cert),
        ca: readFileSync(msg.ca),
        minVersion: 'TLSv1.2',
      }),
      servername: msg.servername,
    };
    process.send({ type: 'ready' });
  } else if (msg.type === 'run') {
    run(msg).then(
      (result) => process.send({ type: 'result', id: msg.id, result }),
      (err) => process.send({ type: 'failed', id: msg.id, error: err.message }),
    );
  } else if (msg.type === 'exit') {
    process.exit(0);
  }
});
// Die with the parent.
process.on('disconnect', () => process.exit(0));
