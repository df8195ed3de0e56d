import type { ExecutionContext } from '@nestjs/common';
import type { Socket } from 'node:net';
import { connectionSocketOf } from '../identity/connection-socket';
import { declaredPatternOf } from './declared-pattern';

/**
 * The connection a request or message arrived on, whatever the transport:
 * HTTP on Express (`request.socket`) or Fastify (`request.raw.socket`; over
 * HTTP/2 the session's TLS socket), and
 * Nest microservices over TCP (`TcpContext.getSocketRef().socket`). With TLS
 * it is the TLSSocket the caller's certificate is read from; undefined for
 * transports without one.
 */
export function socketOf(context: ExecutionContext): Socket | undefined {
  switch (context.getType<string>()) {
    case 'http': {
      const request = context.switchToHttp().getRequest<{ raw?: { socket?: Socket }; socket?: Socket } | undefined>();
      // Over HTTP/2 `raw.socket` is a stand-in per stream; the connection is the session's TLS socket.
      return connectionSocketOf(request?.raw?.socket ?? request?.socket);
    }
    case 'rpc': {
      const rpc = context.switchToRpc().getContext<{ getSocketRef?: () => { socket?: Socket } | undefined } | undefined>();
      return typeof rpc?.getSocketRef === 'function' ? rpc.getSocketRef()?.socket : undefined;
    }
    default:
      return undefined;
  }
}

/** What the log calls a request or message: `GET /users/1`, `RPC {"cmd":"get_user"}` (the handler's declared pattern). */
export function describeInvocation(context: ExecutionContext): string {
  switch (context.getType<string>()) {
    case 'http': {
      const request = context.switchToHttp().getRequest<{ method?: string; originalUrl?: string; url?: string }>();
      return `${request?.method ?? '?'} ${request?.originalUrl ?? request?.url ?? '?'}`;
    }
    case 'rpc': {
      // The handler's declared pattern, not the peer's spelling of it (which would make a new log kind per spelling).
      const rpc = context.switchToRpc().getContext<{ getPattern?: () => unknown } | undefined>();
      const declared = declaredPatternOf(context.getHandler(), rpc);
      if (declared !== undefined) return `RPC ${declared}`;
      const pattern = typeof rpc?.getPattern === 'function' ? rpc.getPattern() : undefined;
      return `RPC ${typeof pattern === 'string' ? pattern : JSON.stringify(pattern)}`;
    }
    default:
      return context.getType<string>();
  }
}
