/**
 * A port nothing listens on, for a process started right after that binds it
 * itself (a service given PORT=...). Picking the port and binding it are two
 * steps, so the pick must be one no other process of the run could take in
 * between:
 * - below the kernel's ephemeral range (32768-60999 on Linux), from which
 *   every outgoing connection takes its source port and `listen(0)` picks:
 *   a port `listen(0)` handed out and closed again could become another
 *   test's client connection before the service bound it (EADDRINUSE, seen
 *   with three Jest workers);
 * - in a slice of its own per Jest worker (JEST_WORKER_ID), so two workers
 *   never pick the same port; inside a slice the ports go round from a random
 *   start, and one that something still listens on is skipped.
 */
const { createServer } = require('node:net');

const BASE = 20000;
const SLICE = 1000;
const SLICES = 12;
let next = Math.floor(Math.random() * SLICE);

/** Whether a listener can bind `port` on every address now. */
function bindable(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/** A free port of this process's slice (20000-20999 outside Jest, 21000-21999 for worker 1, ...). */
async function freePort() {
  const slice = BASE + (Number(process.env.JEST_WORKER_ID ?? 0) % SLICES) * SLICE;
  for (let tries = 0; tries < SLICE; tries++) {
    const port = slice + (next++ % SLICE);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${slice}-${slice + SLICE - 1}`);
}

module.exports = { freePort };
