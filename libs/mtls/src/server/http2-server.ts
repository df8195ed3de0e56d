import { maxHeaderSize, type RequestListener } from 'node:http';
import { constants, createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { closestName } from '../config/closest-name';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { connectionSocketOf } from '../identity/connection-socket';
import { failClosedServerOptions } from './fail-closed-server-options';

/**
 * HTTP/2 on MtlsFastifyAdapter: `new MtlsFastifyAdapter({ http2: true })`,
 * or these settings instead of `true`.
 */
export interface MtlsFastifyHttp2Options {
  /**
   * Serve HTTP/1.1 too, on the same port, to clients that do not offer `h2`
   * in ALPN (default true). false: HTTP/2 only; a client offering only
   * `http/1.1` fails the handshake (no_application_protocol), one offering
   * no protocol at all is closed after it (reason `protocol`).
   */
  allowHTTP1?: boolean;
  /**
   * Streams (requests) one HTTP/2 session may have open at once, 1 to 10000
   * (default 100, the least RFC 9113 recommends; Node's own default is no
   * limit). A client that opens more has them refused, and its session is
   * closed when it goes on.
   */
  maxConcurrentStreams?: number;
}

/** The HTTP/2 settings in force. */
export interface Http2Settings {
  allowHTTP1: boolean;
  maxConcurrentStreams: number;
}

const DEFAULTS: Http2Settings = { allowHTTP1: true, maxConcurrentStreams: 100 };
const KEYS = Object.keys(DEFAULTS);

/**
 * The `http2` option of MtlsFastifyAdapter: undefined or false for an
 * HTTPS (HTTP/1.1) server, else the HTTP/2 settings with defaults; a bad
 * value throws MtlsConfigError naming it.
 */
export function resolveHttp2Options(value: unknown): Http2Settings | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { ...DEFAULTS };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MtlsConfigError('http2', `must be true, false or { allowHTTP1?, maxConcurrentStreams? }, got ${JSON.stringify(value)}`);
  }
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KEYS.includes(key)) {
      const suggestion = closestName(key, KEYS);
      throw new MtlsConfigError(`http2.${key}`, `is not an HTTP/2 setting of MtlsFastifyAdapter${suggestion ? `; did you mean "${suggestion}"?` : ''} (settings: ${KEYS.join(', ')})`);
    }
  }
  const { allowHTTP1 = DEFAULTS.allowHTTP1, maxConcurrentStreams = DEFAULTS.maxConcurrentStreams } = given;
  if (typeof allowHTTP1 !== 'boolean') throw new MtlsConfigError('http2.allowHTTP1', `must be true or false, got ${JSON.stringify(allowHTTP1)}`);
  if (!Number.isInteger(maxConcurrentStreams) || (maxConcurrentStreams as number) < 1 || (maxConcurrentStreams as number) > 10_000) {
    throw new MtlsConfigError('http2.maxConcurrentStreams', `must be a whole number from 1 to 10000, got ${JSON.stringify(maxConcurrentStreams)}`);
  }
  return { allowHTTP1, maxConcurrentStreams: maxConcurrentStreams as number };
}

/** Fastify's server options a server made by `serverFactory` takes over, as Fastify does for a server it makes itself. */
export interface FastifyServerTimeouts {
  keepAliveTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
  http2SessionTimeout?: number;
}

const SESSION = Symbol('nest-mtls:http2-session');

type WithSession = TLSSocket & { [SESSION]?: ServerHttp2Session };

/**
 * The HTTP/2 server of MtlsFastifyAdapter (`http2.createSecureServer`),
 * made fail-closed like the HTTPS one (client certificates demanded, no
 * certificate of its own until MtlsModule installs its material), with ALPN
 * `h2` (and `http/1.1` when allowed), and bounds Node leaves open:
 * - at most `maxConcurrentStreams` open streams per session (Node: no limit);
 *   a client that opens more gets them refused (RST_STREAM), and after
 *   `maxSessionRejectedStreams` (Node's 100) refused ones, or
 *   `maxSessionInvalidFrames` (Node's 1000) invalid frames, loses its session;
 * - a header list no larger than an HTTP/1.1 request header may be
 *   (`http.maxHeaderSize`, 16 KiB unless `--max-http-header-size` says
 *   otherwise), so what HTTP/1.1 refuses HTTP/2 refuses too;
 * - PING and SETTINGS floods: nghttp2 closes a session whose unacknowledged
 *   acknowledgements pile up (1000), and Node caps the entries of a SETTINGS
 *   frame (`maxSettings`, 32) and the memory of a session (`maxSessionMemory`,
 *   10 MB), as they come;
 * - a session idle for `http2SessionTimeout` (Fastify's option, 72 s by
 *   default) is closed, as Fastify does.
 * Fastify's `keepAliveTimeout`, `connectionTimeout` and `maxRequestsPerSocket`
 * apply to HTTP/1.1 connections, as on the HTTPS server. The sessions are
 * closed (GOAWAY) when Fastify closes (`closeHttp2Sessions`).
 */
export function createMtlsHttp2Server(handler: RequestListener, settings: Http2Settings, fastifyOptions: FastifyServerTimeouts): Http2SecureServer {
  const server = createSecureServer(
    {
      ...failClosedServerOptions(),
      allowHTTP1: settings.allowHTTP1,
      settings: { maxConcurrentStreams: settings.maxConcurrentStreams, maxHeaderListSize: maxHeaderSize },
    },
    handler as unknown as Parameters<typeof createSecureServer>[1],
  );
  const http1 = server as unknown as { keepAliveTimeout?: number; maxRequestsPerSocket?: number };
  if (fastifyOptions.keepAliveTimeout !== undefined) http1.keepAliveTimeout = fastifyOptions.keepAliveTimeout;
  if (fastifyOptions.maxRequestsPerSocket !== undefined && fastifyOptions.maxRequestsPerSocket > 0) http1.maxRequestsPerSocket = fastifyOptions.maxRequestsPerSocket;
  if (fastifyOptions.connectionTimeout !== undefined) server.setTimeout(fastifyOptions.connectionTimeout);
  const idleMs = fastifyOptions.http2SessionTimeout ?? 72_000;

  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // The session's socket is a stand-in for the TLS socket (and gone once the session closes): keep the real one.
    const socket = connectionSocketOf(session.socket) as WithSession;
    socket[SESSION] = session;
    SOCKETS.set(session, socket);
    if (idleMs > 0) session.setTimeout(idleMs, () => session.close());
  });
  // Fastify calls it when it closes, before server.close(): Node before 24 leaves sessions open, and server.close() would wait for them.
  (server as Http2SecureServer & { closeHttp2Sessions: () => void }).closeHttp2Sessions = () => {
    for (const session of sessions) session.close();
  };
  return server;
}

const SOCKETS = new WeakMap<ServerHttp2Session, TLSSocket>();

/** The TLS socket of a server-side HTTP/2 session (also after it closed). */
export function socketOfSession(session: ServerHttp2Session): TLSSocket | undefined {
  return SOCKETS.get(session);
}

/** The HTTP/2 session of a TLS connection, when it carries one. */
export function http2SessionOf(socket: TLSSocket): ServerHttp2Session | undefined {
  return (socket as WithSession)[SESSION];
}

/** An HTTP/2 server (Node's Http2SecureServer), as opposed to an HTTPS or plain TLS one. */
export function isHttp2Server(server: TlsServer): server is Http2SecureServer & TlsServer {
  return typeof (server as Partial<Http2SecureServer>).updateSettings === 'function';
}

/** How long a session ended with a GOAWAY may take to write it before its socket is destroyed anyway. */
const GOAWAY_GRACE_MS = 1000;

/**
 * Ends a connection at once: an HTTP/2 session with a GOAWAY carrying
 * `code` (its streams are destroyed with it; the socket is destroyed within
 * a second even when the peer reads nothing more), any other connection by
 * destroying its socket.
 */
export function endConnection(socket: TLSSocket, code: number = constants.NGHTTP2_NO_ERROR): void {
  const session = http2SessionOf(socket);
  if (!session || session.destroyed || socket.destroyed) {
    socket.destroy();
    return;
  }
  ENDED_BY_US.add(session);
  // Node sends `code` in the GOAWAY only with an error (emitted as the session's; the refusal log has it already).
  if (code === constants.NGHTTP2_NO_ERROR) session.destroy();
  else session.destroy(new Error(`the connection was ended (HTTP/2 error code ${code})`), code);
  setTimeout(() => socket.destroy(), GOAWAY_GRACE_MS).unref();
}

const ENDED_BY_US = new WeakSet<ServerHttp2Session>();

/** True when the session was ended by {@link endConnection} (its error is ours, not the peer's). */
export function endedByUs(session: ServerHttp2Session): boolean {
  return ENDED_BY_US.has(session);
}
