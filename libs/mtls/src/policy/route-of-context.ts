import type { ExecutionContext } from '@nestjs/common';

/**
 * The route a request or message was matched to, as declared, never the raw
 * URL (so metrics keep a bounded set of labels): `/users/:id` on Express
 * (`request.route.path`) and Fastify (`request.routeOptions.url`), the
 * message pattern as JSON over RPC.
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
      const pattern = typeof rpc?.getPattern === 'function' ? rpc.getPattern() : undefined;
      return typeof pattern === 'string' ? pattern : JSON.stringify(pattern ?? `${context.getClass().name}.${context.getHandler().name}`);
    }
    default:
      return `${context.getClass().name}.${context.getHandler().name}`;
  }
}
