import type { ExecutionContext } from '@nestjs/common';
import type { ClientIdentity } from '../identity/client-identity.interface';

/**
 * Where the guard leaves the identity it admitted (and which guard class
 * admitted it), by the request (HTTP) or message context (RPC) it was judged
 * for; an entry lives exactly as long as that object. A WeakMap, not a
 * property: adding a property to Express's request (a Node IncomingMessage
 * whose prototype Express replaced) costs several microseconds, an entry
 * here a fraction of one on either adapter.
 */
const judged = new WeakMap<object, { identity: ClientIdentity; by?: object }>();

/** The object that stands for one request or message: the HTTP request, or the RPC context. */
function carrierOf(context: ExecutionContext): object | undefined {
  const type = context.getType<string>();
  const carrier: unknown = type === 'http' ? context.switchToHttp().getRequest() : type === 'rpc' ? context.switchToRpc().getContext() : undefined;
  return typeof carrier === 'object' && carrier !== null ? carrier : undefined;
}

/** Remembers the identity the guard admitted for this request or message (and which guard class did). */
export function rememberJudgedCaller(context: ExecutionContext, identity: ClientIdentity, guard?: object): void {
  const carrier = carrierOf(context);
  if (carrier) judged.set(carrier, { identity, by: guard });
}

/**
 * True when a guard of class `guard` already admitted this request or
 * message (a global guard and @RequireClientCert's both run): the second
 * one does not judge, log or count it again.
 */
export function alreadyJudgedBy(context: ExecutionContext, guard: object): boolean {
  const carrier = carrierOf(context);
  return carrier !== undefined && judged.get(carrier)?.by === guard;
}

/** The identity the guard admitted for this request or message; undefined when no ClientCertGuard ran. */
export function judgedCaller(context: ExecutionContext): ClientIdentity | undefined {
  const carrier = carrierOf(context);
  return carrier ? judged.get(carrier)?.identity : undefined;
}
