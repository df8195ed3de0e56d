import { Injectable, Scope } from '@nestjs/common';
import { request as httpsRequest, type Agent, type RequestOptions } from 'node:https';
import { MtlsMaterialSource } from '../material/material-source';
import type { TLSSocket } from 'node:tls';
import { logSafe } from '../logging/log-safe';
import type { ClientCertRequirement } from '../policy/client-cert-policy';
import { classifyClientError } from './classify-client-error';
import { MtlsClientError } from './mtls-client.error';
import { MtlsOutboundAgent } from './outbound-agent';
import { serverIdentityRule } from './server-identity';
import { SERVER_IDENTITY_OPTION } from './server-identity-agent';

/** One outbound request. */
export interface MtlsRequest {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as is; objects are sent as JSON. */
  body?: string | Buffer | object;
  /** Whole-call timeout in ms (default 10000). */
  timeoutMs?: number;
  /**
   * Who the server must be, besides the name in the URL: a rule over its
   * certificate as `@RequireClientCert` takes it, e.g.
   * `{ spiffeId: 'spiffe://example.org/user-service' }`, a subject DN regex,
   * `{ dns: 'user-service.internal' }`. A server that does not match fails the
   * call with an MtlsClientError of kind `tls` naming the expected and the
   * actual identity, before any request is sent; it holds on resumed TLS
   * sessions and kept-alive connections too.
   */
  serverIdentity?: ClientCertRequirement;
}

/** The answer, read whole (up to 1 MiB). */
export interface MtlsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const MAX_BODY = 1024 * 1024;

/**
 * The Jersey `SslConfigurator` client counterpart: calls other services over
 * HTTPS presenting our certificate, verifies their chain against our trust
 * store only (never the public roots) and their name, keeps connections
 * alive, and turns failures into MtlsClientError.
 *
 * Made where it is injected (transient scope): an application that only
 * serves never makes one, so its certificate needs no clientAuth EKU; one
 * that injects it is checked for clientAuth at startup. All instances share
 * the application's connection pool, which follows certificate rotation.
 * In tests, `await app.resolve(MtlsHttpClient)` (not `get`).
 */
@Injectable({ scope: Scope.TRANSIENT })
export class MtlsHttpClient {
  private readonly pool: MtlsOutboundAgent;

  /** `source`: the application's material (MtlsModule's); the connection pool is the one of that source. */
  constructor(source: MtlsMaterialSource) {
    this.pool = MtlsOutboundAgent.of(source);
    this.pool.enable();
  }

  /**
   * The application's outbound connection pool as one `https.Agent`, for
   * HTTP clients other than this one: axios (`httpsAgent`), got
   * (`agent: { https }`), `https.request({ agent })`, node-fetch. Requests
   * through it present our certificate, verify the server's chain against
   * our trust store only (never the public roots) and its name, and follow
   * rotation: after new material is in place, a new request gets a new
   * connection with the new certificate, and the old connections close once
   * idle. The same object for the life of the application: keep it, do not
   * destroy it (MtlsModule does at shutdown).
   *
   *     const api = axios.create({ baseURL: 'https://user-service:8443', httpsAgent: this.http.httpsAgent() });
   *
   * For fetch, undici's dispatchers do not take an `https.Agent`: call with
   * this client, or with axios or `https.request` through this agent.
   */
  httpsAgent(): Agent {
    return this.pool.httpsAgent();
  }

  /**
   * Sends a request; any HTTP status resolves. Network and TLS failures
   * (a server that is not `serverIdentity` included) reject with
   * MtlsClientError; a malformed `serverIdentity` rejects with a TypeError naming it.
   */
  request(url: string, req: MtlsRequest = {}): Promise<MtlsResponse> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.reject(new MtlsClientError({ kind: 'protocol', url, message: `not a URL: ${url}` }));
    }
    if (target.protocol !== 'https:') return Promise.reject(new MtlsClientError({ kind: 'protocol', url, message: `only https URLs can be called with mTLS, got ${url}` }));
    const headers: Record<string, string> = { ...req.headers };
    let payload: string | Buffer | undefined;
    if (req.body !== undefined) {
      payload = typeof req.body === 'string' || Buffer.isBuffer(req.body) ? req.body : JSON.stringify(req.body);
      if (!Buffer.isBuffer(req.body) && typeof req.body === 'object') headers['content-type'] ??= 'application/json';
    }
    const timeoutMs = req.timeoutMs ?? 10_000;
    let rule;
    try {
      rule = req.serverIdentity === undefined ? undefined : serverIdentityRule(req.serverIdentity);
    } catch (err) {
      return Promise.reject(err);
    }
    const { agent, settings } = this.pool.current();
    const options: RequestOptions = { method: req.method ?? 'GET', headers, agent, ...(rule ? { [SERVER_IDENTITY_OPTION]: rule } : {}) };
    return new Promise<MtlsResponse>((resolveCall, rejectCall) => {
      let handshakeDone = false;
      // A deadline for the whole call (connect, handshake, answer), not an idle timeout.
      const deadline = setTimeout(
        () => call.destroy(new MtlsClientError({ kind: 'timeout', url, message: `no answer from ${url} within ${timeoutMs} ms` })),
        timeoutMs,
      );
      const resolve = (res: MtlsResponse) => {
        clearTimeout(deadline);
        resolveCall(res);
      };
      const reject = (err: MtlsClientError) => {
        clearTimeout(deadline);
        rejectCall(err);
      };
      const call = httpsRequest(target, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY) {
            res.destroy(new MtlsClientError({ kind: 'protocol', url, message: `answer of ${url} is larger than ${MAX_BODY} bytes` }));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => reject(classifyClientError(err, { url, handshakeDone: true, freshConnection: false, ...settings })));
      });
      call.on('socket', (socket) => {
        // A kept-alive socket finished its handshake long ago: no listener on it (one per request would pile up).
        if ((socket as TLSSocket).encrypted && !(socket as TLSSocket).connecting) handshakeDone = true;
        else socket.once('secureConnect', () => (handshakeDone = true));
      });
      call.on('error', (err) => reject(classifyClientError(err, { url, handshakeDone, freshConnection: !call.reusedSocket, ...settings })));
      call.end(payload);
    });
  }

  /** GET and parse JSON; a non-2xx answer rejects with kind `status`, carrying the upstream status and message. */
  async getJson<T = unknown>(url: string, req: Omit<MtlsRequest, 'method' | 'body'> = {}): Promise<T> {
    const res = await this.request(url, { ...req, method: 'GET', headers: { accept: 'application/json', ...req.headers } });
    let parsed: unknown;
    try {
      parsed = res.body.length ? JSON.parse(res.body) : undefined;
    } catch (parseError) {
      if (res.status >= 200 && res.status < 300) throw new MtlsClientError({ kind: 'protocol', url, message: `${url} answered ${res.status} with a body that is not JSON`, cause: parseError });
    }
    if (res.status < 200 || res.status >= 300) {
      const upstreamMessage = typeof (parsed as { message?: unknown })?.message === 'string' ? (parsed as { message: string }).message : undefined;
      throw new MtlsClientError({
        kind: 'status',
        url,
        message: `${url} answered ${res.status}${upstreamMessage ? `: ${logSafe(upstreamMessage)}` : ''}`,
        status: res.status,
        upstreamMessage,
      });
    }
    return parsed as T;
  }
}
