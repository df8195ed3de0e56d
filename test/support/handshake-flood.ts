import { spawn } from 'node:child_process';
import type { ConnectionOptions } from 'node:tls';

// Runs in a child process, so that the flood does not share the server's event loop (the server under test
// runs in the test process): one TLS connection per address, `parallel` at a time, each sending an HTTP request
// once its side of the handshake is done; counts the connections that ended without an answer.
const FLOOD = `
const tls = require('node:tls');
const o = JSON.parse(process.env.FLOOD);
let next = 0, refused = 0, answered = 0;
const started = Date.now();
const one = (localAddress) => new Promise((resolve) => {
  let got = '';
  const socket = tls.connect({ host: '127.0.0.1', port: o.port, servername: 'localhost', localAddress, ...o.tls }, () =>
    socket.write('GET /health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n'));
  socket.setEncoding('latin1');
  socket.on('data', (d) => (got += d));
  socket.on('error', () => undefined);
  socket.on('close', () => { if (got.startsWith('HTTP/')) answered++; else refused++; resolve(); });
  socket.setTimeout(10000, () => socket.destroy());
});
Promise.all(Array.from({ length: o.parallel }, async () => { while (next < o.addresses.length) await one(o.addresses[next++]); }))
  .then(() => process.stdout.write(JSON.stringify({ refused, answered, ms: Date.now() - started })));
`;

/**
 * One TLS handshake (and a request) from each of `addresses` (loopback
 * addresses bound as the client's source), made by a child process,
 * `parallel` at a time: how many were refused (no HTTP answer), how many were
 * answered, and how long it all took.
 */
export function handshakesFrom(port: number, tls: ConnectionOptions, addresses: string[], parallel = 24): Promise<{ refused: number; answered: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', FLOOD], { env: { PATH: process.env.PATH ?? '', FLOOD: JSON.stringify({ port, tls, addresses, parallel }) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out) as { refused: number; answered: number; ms: number });
      } catch {
        reject(new Error(`the handshake flood printed no outcome: ${out}${err}`));
      }
    });
  });
}
