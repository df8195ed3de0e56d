import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { MTLS_DRAIN, untilDeadline, type Drainable, type DrainOutcome } from './drainable';

const DRAIN = Symbol('nest-mtls:http-drain');
/** How often idle connections are looked for while draining (a keep-alive connection becomes idle when its answer is sent). */
const IDLE_SWEEP_MS = 50;

type Tracked = HttpServer & { [DRAIN]?: HttpServerDrain };

/**
 * Drains an HTTP or HTTPS server: tracks its connections and the requests in
 * flight from the moment it is attached (before listening is best), and on
 * drain stops accepting (`server.close()`), closes idle keep-alive
 * connections, answers every request in flight and every request that still
 * arrives on an open connection with `Connection: close` (so the connection
 * ends after that answer instead of waiting for its keep-alive timeout), and
 * at the deadline closes every connection left, including handshakes in
 * progress. On an HTTP/2 server each session gets a GOAWAY instead
 * (`session.close()`: no new streams, those in flight finish), also a
 * session that opens while draining; at the deadline the sessions left are
 * destroyed.
 */
export class HttpServerDrain implements Drainable {
  private readonly sockets = new Set<Socket>();
  private readonly active = new Set<ServerResponse>();
  private readonly sessions = new Set<ServerHttp2Session>();
  private draining = false;

  private constructor(
    private readonly server: HttpServer,
    private readonly label: string,
  ) {
    server.prependListener('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      this.active.add(res);
      res.once('close', () => this.active.delete(res));
      if (this.draining && req.httpVersionMajor !== 2) closeAfterAnswer(res);
    });
    // HTTP/2 servers only (an HTTPS server never emits it).
    server.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      if (this.draining) session.close();
    });
  }

  /** The drain of `server`, attached on first use (one per server). `label` names it in the log (`https`, `admin http`). */
  static of(server: HttpServer, label = 'http'): HttpServerDrain {
    const tracked = server as Tracked;
    tracked[DRAIN] ??= new HttpServerDrain(server, label);
    return tracked[DRAIN];
  }

  /** Requests being handled now. */
  inFlight(): number {
    return this.active.size;
  }

  async [MTLS_DRAIN](deadline: number): Promise<DrainOutcome> {
    const address = this.server.address() as AddressInfo | null;
    const listener = address && typeof address === 'object' ? `${this.label} ${address.address}:${address.port}` : this.label;
    const inFlight = this.active.size;
    this.draining = true;
    for (const res of this.active) if ((res.req as IncomingMessage | undefined)?.httpVersionMajor !== 2) closeAfterAnswer(res);
    for (const session of this.sessions) session.close();
    // Resolves once every connection has ended (at once when nothing is open, or when it never listened).
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const sweep = setInterval(() => this.server.closeIdleConnections(), IDLE_SWEEP_MS);
    try {
      const late = await untilDeadline(closed, deadline);
      if (!late) return { listener, inFlight, cut: 0 };
      const cut = this.sockets.size;
      // An HTTP/2 server has no closeAllConnections (HTTP/1.1 connections on it end with their sockets below).
      if (typeof this.server.closeAllConnections === 'function') this.server.closeAllConnections();
      for (const session of this.sessions) session.destroy();
      for (const socket of this.sockets) socket.destroy();
      await untilDeadline(closed, Date.now() + 1000);
      return { listener, inFlight, cut };
    } finally {
      clearInterval(sweep);
    }
  }
}

/** The connection of `res` ends once `res` is sent (no keep-alive). */
function closeAfterAnswer(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
  (res as ServerResponse & { shouldKeepAlive: boolean }).shouldKeepAlive = false;
}
