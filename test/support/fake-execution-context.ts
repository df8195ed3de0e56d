/**
 * Nest's ExecutionContext for one HTTP request or one TCP message, built by
 * hand (as @nestjs/throttler tests its guard), around a stand-in TLS socket
 * that presents a real certificate: for unit tests of ClientCertGuard and
 * MtlsIdentitySource without a server. The security behaviour over real
 * TLS is proven by the e2e tests; these pin what the guard does with what
 * a socket tells it.
 */
import type { ExecutionContext } from '@nestjs/common';
import { TcpContext } from '@nestjs/microservices';
import type { X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

/** What a server-side TLSSocket says about its peer after the handshake. */
export interface FakeTlsSocketSpec {
  /** The certificate the peer presented (none: undefined). */
  cert?: X509Certificate;
  /** Node's `authorized` (default: true when there is a certificate). */
  authorized?: boolean;
  /** OpenSSL's verify error, as Node names it (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`). */
  authorizationError?: string;
  remoteAddress?: string;
  remotePort?: number;
}

/** A stand-in TLSSocket: `encrypted`, `authorized`, `authorizationError`, the peer certificate, the peer address. */
export function fakeTlsSocket(spec: FakeTlsSocketSpec = {}): Socket {
  const { cert } = spec;
  return Object.assign(new EventEmitter(), {
    encrypted: true,
    authorized: spec.authorized ?? (cert !== undefined && spec.authorizationError === undefined),
    authorizationError: spec.authorizationError ?? null,
    remoteAddress: spec.remoteAddress ?? '127.0.0.1',
    remotePort: spec.remotePort ?? 5000,
    getPeerX509Certificate: () => cert,
    getPeerCertificate: () => (cert ? { raw: cert.raw, fingerprint256: cert.fingerprint256 } : {}),
  }) as unknown as Socket;
}

/** A controller class and one of its handlers, as Nest hands them to a guard. */
export interface Route {
  controller: abstract new (...args: never[]) => unknown;
  handler: (...args: never[]) => unknown;
}

/** `route(Controller, 'method')`: the handler as Nest passes it (the prototype's function). */
export function route<T>(controller: abstract new (...args: never[]) => T, method: keyof T & string): Route {
  return { controller, handler: (controller.prototype as Record<string, (...args: never[]) => unknown>)[method] };
}

/** The ExecutionContext interface over Nest's arguments for `type`. */
function context(type: string, args: unknown[], { controller, handler }: Route): ExecutionContext {
  return {
    getType: () => type,
    getClass: () => controller,
    getHandler: () => handler,
    getArgs: () => args,
    getArgByIndex: (index: number) => args[index],
    switchToHttp: () => ({ getRequest: () => args[0], getResponse: () => args[1], getNext: () => args[2] }),
    switchToRpc: () => ({ getData: () => args[0], getContext: () => args[1] }),
    switchToWs: () => ({ getClient: () => args[0], getData: () => args[1], getPattern: () => args[2] }),
  } as unknown as ExecutionContext;
}

/** An HTTP request as the adapter makes it. */
export interface FakeRequestSpec {
  socket?: Socket;
  /** `express`: `request.socket`, `request.route.path`; `fastify`: `request.raw.socket`, `request.routeOptions.url`. */
  adapter?: 'express' | 'fastify';
  method?: string;
  url?: string;
  /** The declared route (`/users/:id`). */
  path?: string;
  headers?: Record<string, string | string[] | undefined>;
}

/** The context of one HTTP request; `request` is the object the guard keeps its verdict by (a new one per request). */
export function httpContext(at: Route, spec: FakeRequestSpec = {}): { context: ExecutionContext; request: Record<string, unknown> } {
  const { socket, method = 'GET', url = '/users/1', path = '/users/:id', headers = {} } = spec;
  const request: Record<string, unknown> =
    spec.adapter === 'fastify' ? { raw: { socket, headers }, method, url, routeOptions: { url: path }, headers } : { socket, method, url, originalUrl: url, route: { path }, headers };
  return { context: context('http', [request, {}, () => undefined], at), request };
}

/** The context of one TCP message: Nest's own TcpContext (the framing socket, and the pattern as the peer sent it). */
export function rpcContext(at: Route, spec: { socket?: Socket; pattern: string; data?: unknown }): { context: ExecutionContext; rpc: TcpContext } {
  const rpc = new TcpContext([{ socket: spec.socket } as never, spec.pattern]);
  return { context: context('rpc', [spec.data ?? {}, rpc], at), rpc };
}

/**
 * The context of one WebSocket message on the `ws` adapter: `[client, data,
 * pattern]`, the client a `ws` WebSocket whose `_socket` is the connection
 * (the same client for every message of a connection; the data a new object
 * per message).
 */
export function wsContext(at: Route, spec: { client: { _socket?: Socket }; pattern: string; data?: unknown }): ExecutionContext {
  return context('ws', [spec.client, spec.data ?? {}, spec.pattern], at);
}

/**
 * The context of one gRPC call on Nest's gRPC transport: `[request, metadata,
 * call]`, the call a grpc-js server call (a new object per call) whose
 * `getPath()` is the method's registered path.
 */
export function grpcContext(at: Route, spec: { call: object; data?: unknown }): ExecutionContext {
  return context('rpc', [spec.data ?? {}, {}, spec.call], at);
}

/** A context of a type nest-mtls does not read (`graphql`). */
export function otherContext(type: string, at: Route): ExecutionContext {
  return context(type, [{}, {}], at);
}
