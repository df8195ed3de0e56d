import type { TLSSocket } from 'node:tls';

/** The TLS connection of each call object a transport registered (gRPC calls: see MtlsGrpcServer). */
const connections = new WeakMap<object, TLSSocket>();

/**
 * Remembers the TLS connection a call (an object the transport hands its
 * handler, e.g. a gRPC `ServerUnaryCall`) arrived on, for as long as the call
 * object lives. Only a transport of nest-mtls that accepted the connection
 * itself calls this: the guard trusts it.
 */
export function rememberCallConnection(call: object, socket: TLSSocket): void {
  connections.set(call, socket);
}

/** The TLS connection a call arrived on, when its transport registered it (see {@link rememberCallConnection}). */
export function callConnectionOf(call: object | undefined): TLSSocket | undefined {
  return call ? connections.get(call) : undefined;
}
