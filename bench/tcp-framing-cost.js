'use strict';
/*
 * What the TCP transport's framing costs per message: nest-mtls'
 * BoundedJsonSocket (incremental, with limits) against Nest's JsonSocket (the
 * default of ServerTCP), fed the same bytes through the 'data' event of an
 * unconnected net.Socket, in this process, warm, with the built library:
 *
 *   node bench/tcp-framing-cost.js            (after npm run build)
 *
 * Cases: one get_user message per chunk (a ClientTCP call); 64 KiB chunks
 * holding many such messages (pipelined calls); one 512 KiB message arriving
 * in 64 KiB chunks; and what a peer sending bytes without '#' costs per
 * 64 KiB chunk once 1 MiB, 4 MiB, 15 MiB are buffered (Nest searches the
 * whole buffer again per chunk; ours refuses at the first bytes).
 */
const { Socket } = require('node:net');
const { performance } = require('node:perf_hooks');
const { JsonSocket } = require('@nestjs/microservices');
const { BoundedJsonSocket } = require('../libs/mtls/dist/microservices/bounded-json-socket');

const frame = (value) => {
  const json = JSON.stringify(value);
  return `${json.length}#${json}`;
};

function make(kind) {
  const raw = new Socket();
  raw.on('error', () => undefined);
  raw.destroy = () => raw; // keep the object usable after a refusal (nothing is connected)
  // Constructed for its effect: it attaches its framing listeners to `raw`.
  const _framed =
    kind === 'nest'
      ? new JsonSocket(raw, { maxBufferSize: 128 * 1024 * 1024, incompleteMessageTimeout: 0 })
      : new BoundedJsonSocket(raw, { maxMessageBytes: 1024 * 1024, incompleteMessageTimeoutMs: 0, maxSendBufferBytes: 0, refuse: () => undefined });
  let messages = 0;
  raw.on('message', () => messages++);
  return { feed: (chunk) => raw.emit('data', chunk), messages: () => messages };
}

/** µs per message when `chunks` (a list of Buffers holding `perRound` messages) are fed again and again for ~ms. */
function perMessageUs(kind, chunks, perRound, ms = 700) {
  const s = make(kind);
  for (let i = 0; i < 20; i++) for (const c of chunks) s.feed(c);
  let rounds = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (const c of chunks) s.feed(c);
    rounds++;
  }
  const us = ((performance.now() - start) * 1000) / (rounds * perRound);
  if (s.messages() < rounds * perRound) throw new Error(`${kind}: ${s.messages()} messages for ${rounds * perRound}`);
  return us;
}

const call = Buffer.from(frame({ pattern: { cmd: 'get_user' }, data: { id: 1 }, id: '6f1c2a9e-3b7d-4a8e-9c21-5d0e7f3a1b64' }));
const pipelined = Buffer.concat(Array.from({ length: Math.floor(65536 / call.length) }, () => call));
const perChunk = Math.floor(65536 / call.length);
const big = Buffer.from(frame({ pattern: { cmd: 'put_blob' }, data: 'x'.repeat(512 * 1024), id: '1' }));
const bigChunks = [];
for (let i = 0; i < big.length; i += 65536) bigChunks.push(big.subarray(i, i + 65536));

const rows = [];
for (const [name, chunks, n] of [
  ['one message per chunk (~100 B)', [call], 1],
  [`64 KiB chunks of ${perChunk} messages`, [pipelined], perChunk],
  ['one 512 KiB message in 64 KiB chunks', bigChunks, 1],
]) {
  rows.push({ case: name, 'Nest JsonSocket µs/msg': perMessageUs('nest', chunks, n).toFixed(2), 'BoundedJsonSocket µs/msg': perMessageUs('bounded', chunks, n).toFixed(2) });
}
console.table(rows);

// A peer sending no '#': the cost of the next 64 KiB chunk once `buffered` bytes are held.
const noHash = Buffer.alloc(65536, 'x'.charCodeAt(0));
const stall = [];
for (const mib of [1, 4, 15]) {
  const row = { buffered: `${mib} MiB` };
  for (const kind of ['nest', 'bounded']) {
    const s = make(kind);
    const start = performance.now();
    for (let i = 0; i < (mib * 1024 * 1024) / 65536; i++) s.feed(noHash);
    row[`${kind === 'nest' ? 'Nest JsonSocket' : 'BoundedJsonSocket'}: total ms`] = (performance.now() - start).toFixed(1);
  }
  stall.push(row);
}
console.table(stall);
