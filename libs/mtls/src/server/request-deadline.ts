import type { Server as HttpsServer } from 'node:https';

/** Node checks its request deadlines this often by default (`connectionsCheckingInterval`). */
const NODE_CHECK_INTERVAL_MS = 30_000;

/**
 * A whole-request deadline on an HTTP(S) server: a request whose header and
 * body have not arrived within `timeoutMs` is answered 408 and its
 * connection closed (Node's `requestTimeout`). Express's server has Node's
 * 300000 ms; Fastify sets 0 (none) on a server it makes, so a body dripped a
 * byte at a time held a connection forever. The header deadline is kept
 * within it, and Node's check of both runs often enough for the deadline to
 * mean something (a tenth of it, from 250 ms to Node's 30 s; the interval is
 * read when the server starts listening). Nothing is added per request.
 */
export function applyRequestDeadline(server: HttpsServer, timeoutMs: number): void {
  const target = server as HttpsServer & { connectionsCheckingInterval: number };
  target.requestTimeout = timeoutMs;
  if (target.headersTimeout === 0 || target.headersTimeout > timeoutMs) target.headersTimeout = timeoutMs;
  target.connectionsCheckingInterval = Math.min(NODE_CHECK_INTERVAL_MS, Math.max(250, Math.floor(timeoutMs / 10)));
}
