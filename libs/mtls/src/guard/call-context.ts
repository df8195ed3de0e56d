import { BadRequestException, type ExecutionContext } from '@nestjs/common';
import { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHeaders } from '../identity/forwarded/forwarded-certificate';
import { ClientCertForbiddenException } from './client-cert-forbidden.exception';
import { declaredPatternOf } from './declared-pattern';
import { connectionSocketOf } from '../identity/connection-socket';
import { callConnectionOf } from '../identity/call-connection';

/** What a refusal answers: 403 (no or refused certificate), 400 (the trusted proxy's header cannot be read). */
export type RefusalStatus = 403 | 400;

/**
 * How ClientCertGuard and the identity source read one call (an HTTP
 * request, a microservice message), whatever carries it: the one place that
 * knows the transports. `callKindOf(context)` picks the kind by
 * `context.getType()`; each kind reads Nest's arguments by index (what
 * `switchToHttp()` and `switchToRpc()` return, without the three closures
 * they assign to the context on every call), so nothing here allocates for
 * an admitted call.
 *
 * Adding a transport is adding a kind here: gRPC arrives as type `rpc` with
 * the arguments `[data, metadata, call]` (told from TCP by the call object
 * in the third argument: see the `GRPC` kind below); a WebSocket gateway
 * arrives as type `ws` (see the `WS` kind below).
 */
export interface CallKind {
  /** `http`, `rpc`, or the context's type for a transport nest-mtls does not read. */
  readonly name: string;
  /** The connection the call arrived on: with TLS, the TLSSocket the caller's certificate is read from. */
  socket(context: ExecutionContext): Socket | undefined;
  /** The object that stands for this one call (the HTTP request, the RPC context): the admitted identity is kept by it for @ClientCert(). */
  carrier(context: ExecutionContext): object | undefined;
  /** The route as declared, never the raw URL or pattern text (a bounded metric label): `/users/:id`, `{"cmd":"get_user"}`. */
  route(context: ExecutionContext): string;
  /** What the log calls the call: `GET /users/1?x=2`, `RPC {"cmd":"get_user"}`. */
  describe(context: ExecutionContext): string;
  /** The request's headers, where a trusted proxy forwards certificates (HTTP only). */
  headers(context: ExecutionContext): RequestHeaders | undefined;
  /** How the log names a refusal: the HTTP status over HTTP, `refused` where there is none. */
  refused(status: RefusalStatus): string;
  /** The exception that refuses the call, telling the caller `message` and nothing else. */
  refusal: (status: RefusalStatus, message: string) => Error;
}

interface HttpRequestLike {
  raw?: { socket?: Socket; httpVersionMajor?: number };
  socket?: Socket;
  method?: string;
  originalUrl?: string;
  url?: string;
  route?: { path?: unknown };
  routeOptions?: { url?: unknown };
  headers?: RequestHeaders;
}

interface RpcContextLike {
  getSocketRef?: () => { socket?: Socket } | undefined;
  getPattern?: () => unknown;
}

/**
 * Node's request under an HTTP request object: Express's request is Node's
 * own (asked first: looking up a property Express's request lacks, such as
 * `raw`, walks prototypes V8 cannot cache, a microsecond or more per
 * request), Fastify's has it as `raw`.
 */
export function rawRequestOf(request: unknown): { socket?: Socket; httpVersionMajor?: number } | undefined {
  if (request instanceof IncomingMessage) return request;
  return (request as HttpRequestLike | undefined)?.raw;
}

/** Fastify's symbol for a request's route context (its `config.url` is the route as declared), found on the first Fastify request. */
let fastifyContextKey: symbol | undefined;

/**
 * The declared route of a Fastify request: what `request.routeOptions.url`
 * says, read from the route context that getter reads it from (the getter
 * builds an object of thirteen fields per call; this runs per request).
 */
function fastifyRouteUrl(request: HttpRequestLike | undefined): unknown {
  if (!request?.raw) return undefined;
  fastifyContextKey ??= Object.getOwnPropertySymbols(request).find((s) => s.description === 'fastify.context');
  const context = fastifyContextKey ? (request as Record<symbol, { config?: { url?: unknown } } | undefined>)[fastifyContextKey] : undefined;
  return context?.config ? context.config.url : request.routeOptions?.url;
}

const handlerName = (context: ExecutionContext) => `${context.getClass().name}.${context.getHandler().name}`;

const asObject = (value: unknown): object | undefined => (typeof value === 'object' && value !== null ? value : undefined);

/** HTTP on Express (`request.socket`) and Fastify (`request.raw.socket`, over HTTP/2 the session's TLS socket; `request.routeOptions.url`); arguments `[request, response, next]`. */
const HTTP: CallKind = {
  name: 'http',
  socket: (context) => {
    const request = context.getArgByIndex<HttpRequestLike | undefined>(0);
    // Over HTTP/2 `raw.socket` is a stand-in per stream; the connection is the session's TLS socket.
    return connectionSocketOf(rawRequestOf(request)?.socket ?? request?.socket);
  },
  carrier: (context) => asObject(context.getArgByIndex(0)),
  route: (context) => {
    const request = context.getArgByIndex<HttpRequestLike | undefined>(0);
    const path = request?.route?.path ?? fastifyRouteUrl(request);
    return typeof path === 'string' ? path : handlerName(context);
  },
  describe: (context) => {
    const request = context.getArgByIndex<HttpRequestLike | undefined>(0);
    return `${request?.method ?? '?'} ${request?.originalUrl ?? request?.url ?? '?'}`;
  },
  headers: (context) => context.getArgByIndex<HttpRequestLike | undefined>(0)?.headers,
  refused: (status) => String(status),
  refusal: (status, message) => (status === 400 ? new BadRequestException({ statusCode: 400, message }) : new ClientCertForbiddenException(message)),
};

/**
 * Nest microservices over TCP (`TcpContext.getSocketRef().socket`, our
 * MtlsTcpServer's TLS socket); arguments `[data, context]`. Labelled by the
 * handler's declared pattern, never the text the peer sent. Other RPC
 * transports have no socket here: their callers have no certificate.
 */
const RPC: CallKind = {
  name: 'rpc',
  socket: (context) => {
    const rpc = context.getArgByIndex<RpcContextLike | undefined>(1);
    return typeof rpc?.getSocketRef === 'function' ? rpc.getSocketRef()?.socket : undefined;
  },
  carrier: (context) => asObject(context.getArgByIndex(1)),
  route: (context) => declaredPatternOf(context.getHandler(), context.getArgByIndex<RpcContextLike | undefined>(1)) ?? handlerName(context),
  describe: (context) => {
    const rpc = context.getArgByIndex<RpcContextLike | undefined>(1);
    const declared = declaredPatternOf(context.getHandler(), rpc);
    if (declared !== undefined) return `RPC ${declared}`;
    const pattern = typeof rpc?.getPattern === 'function' ? rpc.getPattern() : undefined;
    return `RPC ${typeof pattern === 'string' ? pattern : JSON.stringify(pattern)}`;
  },
  headers: () => undefined,
  refused: () => 'refused', // an HTTP status only over HTTP
  refusal: (_status, message) => rpcRefusal(message),
};

/** The parts of a gRPC server call (`ServerUnaryCall`, streams) read here. */
interface GrpcCallLike {
  getPath(): string;
}

/**
 * A gRPC message on `@nestjs/microservices`' gRPC transport (type `rpc`,
 * arguments `[request, metadata, call]`). The connection is the one
 * MtlsGrpcServer (nest-mtls/grpc) accepted the call on: it registers each
 * call with its TLS socket before the handler runs, so the identity is read
 * (and cached) once per connection, and no certificate is read per call. A
 * call on a gRPC server of another kind has no registered connection: no
 * certificate, refused. Labelled by the method's path as registered
 * (`/users.UserService/GetUser`: the path of the handler grpc-js found,
 * never other text the peer sent). Refused with an RpcException carrying
 * gRPC status 7 (PERMISSION_DENIED) and the message.
 */
const GRPC: CallKind = {
  name: 'grpc',
  socket: (context) => callConnectionOf(asObject(context.getArgByIndex(2))),
  carrier: (context) => asObject(context.getArgByIndex(2)),
  route: (context) => grpcPathOf(context) ?? handlerName(context),
  describe: (context) => `gRPC ${grpcPathOf(context) ?? handlerName(context)}`,
  headers: () => undefined,
  refused: () => 'refused',
  refusal: (_status, message) => rpcRefusal({ code: GRPC_PERMISSION_DENIED, message }),
};

/** gRPC's status PERMISSION_DENIED (the caller is known and not allowed), as grpc-js numbers it. */
const GRPC_PERMISSION_DENIED = 7;

/** The registered path of a gRPC call (`/package.Service/Method`). */
function grpcPathOf(context: ExecutionContext): string | undefined {
  const call = context.getArgByIndex<Partial<GrpcCallLike> | undefined>(2);
  const path = typeof call?.getPath === 'function' ? call.getPath() : undefined;
  return typeof path === 'string' ? path : undefined;
}

/** A gRPC call (third argument of an `rpc` context) rather than a TCP message (whose second is its context). */
function isGrpcCall(context: ExecutionContext): boolean {
  return typeof context.getArgByIndex<Partial<GrpcCallLike> | undefined>(2)?.getPath === 'function';
}

interface WsClientLike {
  /** A `ws` WebSocket's connection: on the server, the TLS socket of the upgrade request. */
  _socket?: Socket;
}

/**
 * WebSocket gateways on the `ws` adapter (@nestjs/platform-ws); arguments
 * `[client, data, pattern]`. The connection is the client's `_socket`, the
 * TLS socket its upgrade request came on, so the identity is read (and
 * cached) once per connection, not per message. The identity admitted for
 * a message is kept by the message's data (a fresh object per JSON
 * message), never by the client: a message to another handler is judged
 * by that handler's policy. Labelled by the declared `@SubscribeMessage`
 * pattern Nest appends, never the text the peer sent. Refused with a
 * WsException: the client gets `{ event: 'exception', data: { status:
 * 'error', message } }`. A socket.io client has no `_socket`: no
 * certificate, refused.
 */
const WS: CallKind = {
  name: 'ws',
  socket: (context) => connectionSocketOf(context.getArgByIndex<WsClientLike | undefined>(0)?._socket),
  carrier: (context) => asObject(context.getArgByIndex(1)),
  route: (context) => wsPatternOf(context) ?? handlerName(context),
  describe: (context) => `WS ${wsPatternOf(context) ?? handlerName(context)}`,
  headers: () => undefined,
  refused: () => 'refused',
  refusal: (_status, message) => wsRefusal(message),
};

/** The pattern of the handler as declared (`@SubscribeMessage('get_user')`): Nest's ws proxy appends it as the last argument. */
function wsPatternOf(context: ExecutionContext): string | undefined {
  const args = context.getArgs();
  const pattern: unknown = args.length > 2 ? args[args.length - 1] : undefined;
  return typeof pattern === 'string' ? pattern : undefined;
}

/** A context of a type nest-mtls does not read (`graphql`, ...): no socket, so no certificate; refused as over HTTP. */
function otherKind(name: string): CallKind {
  return {
    name,
    socket: () => undefined,
    carrier: () => undefined,
    route: handlerName,
    describe: () => name,
    headers: () => undefined,
    refused: (status) => String(status),
    refusal: HTTP.refusal,
  };
}

const others = new Map<string, CallKind>();

/** The kind of call a context is (see {@link CallKind}). */
export function callKindOf(context: ExecutionContext): CallKind {
  const type = context.getType<string>();
  if (type === 'http') return HTTP;
  if (type === 'rpc') return isGrpcCall(context) ? GRPC : RPC;
  if (type === 'ws') return WS;
  let kind = others.get(type);
  if (!kind) others.set(type, (kind = otherKind(String(type))));
  return kind;
}

/** The connection a request or message arrived on (see {@link CallKind.socket}). */
export function socketOf(context: ExecutionContext): Socket | undefined {
  return callKindOf(context).socket(context);
}

/**
 * An RpcException with the article's message, so a ClientProxy caller gets
 * `{ status: 'error', message }` (over gRPC `{ code, message }`: the call's
 * status and details). Loaded here, not at the top: only an RPC
 * context gets here, and then @nestjs/microservices is installed.
 */
function rpcRefusal(message: string | { code: number; message: string }): Error {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RpcException } = require('@nestjs/microservices') as typeof import('@nestjs/microservices');
  return new RpcException(message);
}

/**
 * A WsException with the article's message, which Nest's ws exception
 * filter sends as `{ event: 'exception', data: { status: 'error', message } }`.
 * Loaded here, not at the top: only a ws context gets here, and then
 * @nestjs/websockets is installed.
 */
function wsRefusal(message: string): Error {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { WsException } = require('@nestjs/websockets') as typeof import('@nestjs/websockets');
  return new WsException(message);
}
