import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { MTLS_DRAIN, untilDeadline, type Drainable, type DrainOutcome } from './drainable';

const DRAIN = Symbol('nest-mtls:http-drain');
/** How often idle connections are looked for while draining (a keep-alive connection becomes idle when its answer is sent). */
const IDLE_SWEEP_MS = 50;

type Tracked = HttpServer & { [DRAIN]?: HttpServerDrain };

/** Node's HTTP/1.1 server keeps the response being written on its connection's socket (`_httpMessage`, cleared when it is sent). */
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * Drains an HTTP or HTTPS server: tracks its connections from the moment it
 * is attached (before listening is best), and on drain stops accepting
 * (`server.close()`), closes idle keep-alive connections, answers every
 * request in flight and every request that still arrives on an open
 * connection with `Connection: close` (so the connection ends after that
 * answer instead of waiting for its keep-alive timeout), and at the deadline
 * closes every connection left, including handshakes in progress. On an
 * HTTP/2 server each session gets a GOAWAY instead (`session.close()`: no
 * new streams, those in flight finish), also a session that opens while
 * draining; at the deadline the sessions left are destroyed.
 *
 * Nothing is done per HTTP/1.1 request until draining begins: the requests
 * in flight are the answers Node is writing on the connections (one per
 * connection), found when draining starts; requests after that are caught
 * by a listener added then. (An HTTP/2 server's streams have no connection
 * of their own: they are tracked per request.)
 */
export class HttpServerDrain implements Drainable {
  /** Every connection (TCP sockets: handshakes in progress too). */
  private readonly sockets = new Set<Socket>();
  /** The TLS sockets of an HTTPS server's connections, where Node writes the answers. */
  private readonly secure = new Set<HttpSocket>();
  /** HTTP/2 servers only: the requests being handled. */
  private readonly active = new Set<ServerResponse>();
  private readonly sessions = new Set<ServerHttp2Session>();
  private draining = false;
  private readonly http1: boolean;

  private constructor(
    private readonly server: HttpServer,
    private readonly label: string,
  ) {
    // An HTTP/2 server (Node's Http2SecureServer) has settings to update; an HTTP(S) server has none.
    this.http1 = typeof (server as { updateSettings?: unknown }).updateSettings !== 'function';
    server.prependListener('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.prependListener('secureConnection', (socket: HttpSocket) => {
      this.secure.add(socket);
      socket.once('close', () => this.secure.delete(socket));
    });
    if (!this.http1) {
      server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
        this.active.add(res);
        res.once('close', () => this.active.delete(res));
        if (this.draining && req.httpVersionMajor !== 2) closeAfterAnswer(res);
      });
    }
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
    return this.http1 ? this.answering().length : this.active.size;
  }

  /** HTTP/1.1: the answers Node is writing now, one per connection at most. */
  private answering(): ServerResponse[] {
    const answers: ServerResponse[] = [];
    for (const sockets of [this.sockets, this.secure]) {
      for (const socket of sockets as Set<HttpSocket>) {
        const res = socket._httpMessage;
        if (res && !res.writableFinished) answers.push(res);
      }
    }
    return answers;
  }

  async [MTLS_DRAIN](deadline: number): Promise<DrainOutcome> {
    const address = this.server.address() as AddressInfo | null;
    const listener = address && typeof address === 'object' ? `${this.label} ${address.address}:${address.port}` : this.label;
    const inFlight = this.inFlight();
    this.draining = true;
    if (this.http1) {
      for (const res of this.answering()) closeAfterAnswer(res);
      // From now on every request is answered with `Connection: close`.
      this.server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => closeAfterAnswer(res));
    } else {
      for (const res of this.active) if ((res.req as IncomingMessage | undefined)?.httpVersionMajor !== 2) closeAfterAnswer(res);
    }
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
