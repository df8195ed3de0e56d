import { request } from 'node:http';

/** A bounded HTTP exchange: how long it may take and how much it may bring back. */
export interface FetchLimits {
  /** The whole exchange, connect to last byte, in ms. */
  timeoutMs: number;
  /** The largest body accepted, in bytes. */
  maxBytes: number;
  /** Abandons the exchange (its connection closed) when it aborts. */
  signal?: AbortSignal;
}

/** What to send: GET by default, or POST with a body (an OCSP request). */
export interface FetchRequest {
  method?: 'GET' | 'POST';
  body?: Uint8Array;
  contentType?: string;
  accept?: string;
}

/**
 * Fetches an `http:` URL (CRLs and OCSP answers are signed, and fetched over
 * plain HTTP, as RFC 5280 and RFC 6960 expect) within `limits`: a slow
 * server, a status other than 200, a redirect, or a body larger than
 * `maxBytes` (announced or streamed) rejects with an Error saying which; so
 * does an abort of `limits.signal`, which closes the connection at once.
 */
export function httpFetch(url: string, limits: FetchLimits, what: FetchRequest = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== 'http:') return reject(new Error(`${url}: only http: URLs are fetched`));
    if (limits.signal?.aborted) return reject(new Error(`${url}: abandoned before it started`));
    let settled = false;
    const finish = (err: Error | undefined, body?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', abandon);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(body!);
    };
    const headers: Record<string, string> = { 'user-agent': 'nest-mtls', connection: 'close' };
    if (what.accept) headers.accept = what.accept;
    if (what.body) {
      headers['content-type'] = what.contentType ?? 'application/octet-stream';
      headers['content-length'] = String(what.body.length);
    }
    const req = request(target, { method: what.method ?? 'GET', headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return finish(new Error(`${url} answered HTTP ${res.statusCode}`));
      }
      const announced = Number(res.headers['content-length']);
      if (Number.isFinite(announced) && announced > limits.maxBytes) {
        res.resume();
        return finish(new Error(`${url} announced ${announced} bytes, more than the ${limits.maxBytes} accepted`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) finish(new Error(`${url} sent more than the ${limits.maxBytes} bytes accepted`));
        else chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, Buffer.concat(chunks)));
      res.on('error', (err) => finish(new Error(`${url}: ${err.message}`)));
    });
    const timer = setTimeout(() => finish(new Error(`${url} did not answer within ${limits.timeoutMs} ms`)), limits.timeoutMs);
    timer.unref();
    const abandon = () => finish(new Error(`${url}: abandoned: every connection waiting for it has closed`));
    limits.signal?.addEventListener('abort', abandon, { once: true });
    req.on('error', (err: NodeJS.ErrnoException) => finish(new Error(`${url}: ${err.code ?? err.message}`)));
    req.end(what.body);
  });
}
