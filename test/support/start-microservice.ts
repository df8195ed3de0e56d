import type { INestMicroservice, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { spawn } from 'node:child_process';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { mtlsTcpMicroservice, type MtlsTcpServerOptions } from 'nest-mtls/microservices';
import { CapturingLogger } from './start-app';

export interface RunningMicroservice {
  app: INestMicroservice;
  port: number;
  logs: CapturingLogger;
  close(): Promise<void>;
}

/**
 * Starts `module` as a Nest microservice over TCP with mutual TLS on
 * 127.0.0.1 and a free port, the way Nest users test one: a TestingModule,
 * then createNestMicroservice with mtlsTcpMicroservice().
 */
export async function startMtlsMicroservice(module: Type, tcp: MtlsTcpServerOptions = {}, logs = new CapturingLogger()): Promise<RunningMicroservice> {
  const moduleRef = await Test.createTestingModule({ imports: [module] }).setLogger(logs).compile();
  const app = moduleRef.createNestMicroservice({ ...mtlsTcpMicroservice({ host: '127.0.0.1', port: 0, ...tcp }), logger: logs });
  await app.listen();
  const port = (app.unwrap<Server>().address() as AddressInfo).port;
  return { app, port, logs, close: () => app.close() };
}

/** What a raw TLS client got for one Nest TCP message: the answer packet, or how the connection ended before one. */
export type RawRpcOutcome = { answer: { response?: unknown; err?: unknown; isDisposed?: boolean } } | { failed: string };

/**
 * One Nest TCP message (`<length>#<json>` framing) over a fresh TLS
 * connection made with Node's `tls.connect`, not Nest's client: a refused
 * handshake shows as `failed` with the error code Node reports.
 */
export function rawRpc(port: number, tls: ConnectionOptions, pattern: unknown, data: unknown, timeoutMs = 5000): Promise<RawRpcOutcome> {
  return new Promise((resolve) => {
    let buffer = '';
    let done = false;
    const finish = (outcome: RawRpcOutcome) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(outcome);
    };
    const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...tls }, () => {
      const body = JSON.stringify({ pattern, data, id: 'raw-1' });
      socket.write(`${body.length}#${body}`);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const hash = buffer.indexOf('#');
      if (hash < 0) return;
      const length = Number(buffer.slice(0, hash));
      if (buffer.length - hash - 1 < length) return;
      finish({ answer: JSON.parse(buffer.slice(hash + 1, hash + 1 + length)) });
    });
    socket.on('error', (err: Error & { code?: string }) => finish({ failed: err.code ?? err.message }));
    socket.on('close', () => finish({ failed: 'closed' }));
    setTimeout(() => finish({ failed: 'timeout' }), timeoutMs).unref();
  });
}

/** How a flood sent by {@link floodFromChild} ended. */
export interface FloodOutcome {
  /** Bytes the sender's TLS socket accepted before it closed (or all of them). */
  sentBytes: number;
  /** From the end of the handshake until the server closed the connection; undefined when it stayed open. */
  closedAfterMs?: number;
  /** The server closed the connection before the sender had written everything. */
  cutShort: boolean;
}

// Runs in a child process (so that the test process measures the server, not its own sending): one mTLS
// connection, `prefix`, then `fill` repeated up to `bytes`, 64 KiB at a time as the socket drains; prints a FloodOutcome.
const FLOOD_SENDER = `
const tls = require('node:tls');
const o = JSON.parse(process.env.FLOOD);
const socket = tls.connect({ host: '127.0.0.1', port: o.port, servername: 'localhost', ...o.tls });
let sent = 0, started = 0, done = false;
const finish = (closed) => {
  if (done) return;
  done = true;
  process.stdout.write(JSON.stringify({ sentBytes: sent, closedAfterMs: closed ? Date.now() - started : undefined, cutShort: closed && sent < o.total }));
  process.exit(0);
};
socket.on('error', () => finish(true));
socket.on('close', () => finish(true));
socket.on('secureConnect', () => {
  started = Date.now();
  const chunk = Buffer.from(o.fill.repeat(Math.ceil(65536 / o.fill.length)).slice(0, 65536));
  let queued = Buffer.byteLength(o.prefix);
  socket.write(o.prefix, (err) => { if (!err) sent += queued; });
  const pump = () => {
    while (!socket.destroyed && queued < o.total) {
      const n = Math.min(chunk.length, o.total - queued);
      queued += n;
      const more = socket.write(chunk.subarray(0, n), (err) => { if (!err) sent += n; });
      if (!more) return socket.once('drain', pump);
    }
  };
  pump();
  const wait = setInterval(() => { if (sent >= o.total) { clearInterval(wait); setTimeout(() => finish(false), o.waitAfterMs); } }, 20);
});
`;

/**
 * Sends `prefix` then `fill` repeated to `bytes` in all over one mTLS
 * connection made by a child process, and reports whether (and how soon
 * after the handshake) the server closed it; waits `waitAfterMs` after the
 * last byte for the server to close.
 */
export function floodFromChild(port: number, tls: ConnectionOptions, flood: { prefix?: string; fill: string; bytes: number; waitAfterMs?: number }): Promise<FloodOutcome> {
  const prefix = flood.prefix ?? '';
  const spec = { port, tls, prefix, fill: flood.fill, total: Buffer.byteLength(prefix) + flood.bytes, waitAfterMs: flood.waitAfterMs ?? 3000 };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', FLOOD_SENDER], { env: { PATH: process.env.PATH ?? '', FLOOD: JSON.stringify(spec) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out) as FloodOutcome);
      } catch {
        reject(new Error(`the flood sender printed no outcome: ${out}${err}`));
      }
    });
  });
}

/**
 * GET `path` over one keep-alive HTTPS connection, again and again until
 * `until` settles (and once more after): the longest time one request took,
 * i.e. how long the server's event loop stalled at worst meanwhile.
 */
export async function longestAnswerWhile(port: number, path: string, tls: ConnectionOptions, until: Promise<unknown>): Promise<{ longestMs: number; requests: number; statuses: number[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let settled = false;
  void until.finally(() => (settled = true)).catch(() => undefined);
  let longestMs = 0;
  let requests = 0;
  const statuses = new Set<number>();
  try {
    do {
      const started = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port, path, agent, servername: 'localhost', ...tls } as never, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
      longestMs = Math.max(longestMs, performance.now() - started);
      requests++;
      statuses.add(status);
      await new Promise((r) => setTimeout(r, 5));
    } while (!settled);
  } finally {
    agent.destroy();
  }
  return { longestMs: Math.round(longestMs), requests, statuses: [...statuses] };
}

/**
 * Sends one Nest TCP message per pattern (ids `0`, `1`, ...) over one mTLS
 * connection, all at once, and resolves with the answers by id once every
 * one came back (rejects when the connection closes first or after `timeoutMs`).
 */
export function rawRpcBatch(port: number, tls: ConnectionOptions, patterns: unknown[], data: unknown, timeoutMs = 30000): Promise<Map<string, { response?: unknown; err?: unknown }>> {
  return new Promise((resolve, reject) => {
    const answers = new Map<string, { response?: unknown; err?: unknown }>();
    let buffer = '';
    const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...tls }, () => {
      socket.write(
        patterns
          .map((pattern, id) => {
            const body = JSON.stringify({ pattern, data, id: String(id) });
            return `${body.length}#${body}`;
          })
          .join(''),
      );
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${answers.size} of ${patterns.length} answers within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const hash = buffer.indexOf('#');
        if (hash < 0) break;
        const length = Number(buffer.slice(0, hash));
        if (buffer.length - hash - 1 < length) break;
        const packet = JSON.parse(buffer.slice(hash + 1, hash + 1 + length)) as { id: string; response?: unknown; err?: unknown; isDisposed?: boolean };
        buffer = buffer.slice(hash + 1 + length);
        if (packet.response !== undefined || packet.err !== undefined) answers.set(packet.id, { response: packet.response, err: packet.err });
      }
      if (answers.size === patterns.length) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answers);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      if (answers.size < patterns.length) reject(new Error(`connection closed after ${answers.size} of ${patterns.length} answers`));
    });
  });
}
