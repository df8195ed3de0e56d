import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

/** An HTTP answer read over a real TLS connection. */
export interface HttpsAnswer {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  body: string;
  json?: unknown;
}

/** TLS options, and the local address to connect from (another loopback address than 127.0.0.1, say). */
export type ProbeOptions = ConnectionOptions & { localAddress?: string };

/** One HTTPS request with the given TLS options (a fresh connection: no agent). */
export function httpsGet(port: number, path: string, tls: ProbeOptions, host = '127.0.0.1'): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', agent: false, servername: 'localhost', ...tls } as never, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The outcome of a TLS handshake and one request on it: 'refused' when the
 * server ends the connection before any HTTP answer (with TLS 1.3 the client
 * sees the refusal only after its side of the handshake), else the status.
 */
export async function handshakeOutcome(port: number, tls: ProbeOptions, path = '/health'): Promise<'refused' | number> {
  try {
    return (await httpsGet(port, path, tls)).status;
  } catch {
    return 'refused';
  }
}

/** Opens a TLS connection and resolves with the socket once the handshake is done from our side. */
export function tlsOpen(port: number, options: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...options }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends a plain-HTTP request to a port and returns whatever comes back before the server closes. */
export function plainHttpExchange(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port }, () => socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n'));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.setTimeout(5000, () => socket.destroy());
  });
}

/** Runs a command; resolves with its exit code and output (never rejects). */
export function run(cmd: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: options.timeoutMs ?? 20000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/**
 * Connects over TLS 1.2, asks to renegotiate and sends a request (OpenSSL
 * starts the new handshake with the next record). 'renegotiated' when the
 * server went along, 'closed'/'error' when it ended the connection.
 * The server's end is enough: OpenSSL 3.0 (Node 20) reports it as an error
 * (EPROTO "unexpected record"), OpenSSL 3.5 (Node 22.20+, 24) as a clean end
 * of the stream, after which a socket in the middle of a renegotiation stays
 * open from our side, so waiting for 'close' alone would wait forever.
 */
export async function renegotiationOutcome(port: number, tls: ConnectionOptions): Promise<'renegotiated' | 'closed' | 'error' | 'not started'> {
  const socket = await tlsOpen(port, { ...tls, maxVersion: 'TLSv1.2' });
  try {
    return await new Promise((resolve) => {
      socket.once('close', () => resolve('closed'));
      socket.once('end', () => resolve('closed'));
      socket.once('error', () => resolve('error'));
      const started = socket.renegotiate({ rejectUnauthorized: true }, (err) => resolve(err ? 'error' : 'renegotiated'));
      if (!started) resolve('not started');
      socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    });
  } finally {
    socket.destroy();
  }
}

/** Waits until `socket` closes; resolves with the ms it took, or rejects after `limitMs`. */
export function closedWithin(socket: TLSSocket, limitMs: number): Promise<number> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(0);
    const timer = setTimeout(() => reject(new Error(`still open after ${limitMs} ms`)), limitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - start);
    });
  });
}
