import type { ExecutionContext } from '@nestjs/common';
import { declaredPatternOf } from './declared-pattern';

/**
 * The route a request or message was matched to, as declared, never the raw
 * URL (so metrics keep a bounded set of labels): `/users/:id` on Express
 * (`request.route.path`) and Fastify (`request.routeOptions.url`), the
 * handler's declared message pattern as JSON over RPC (never the text the
 * peer sent: every spelling of `{"cmd":"get_user"}` reaches the same handler).
 */
export function routeOf(context: ExecutionContext): string {
  switch (context.getType<string>()) {
    case 'http': {
      const request = context.switchToHttp().getRequest<{ route?: { path?: unknown }; routeOptions?: { url?: unknown } } | undefined>();
      const path = request?.route?.path ?? request?.routeOptions?.url;
      return typeof path === 'string' ? path : `${context.getClass().name}.${context.getHandler().name}`;
    }
    case 'rpc': {
      const rpc = context.switchToRpc().getContext<{ getPattern?: () => unknown } | undefined>();
      return declaredPatternOf(context.getHandler(), rpc) ?? `${context.getClass().name}.${context.getHandler().name}`;
    }
    default:
      return `${context.getClass().name}.${context.getHandler().name}`;
  }
}
