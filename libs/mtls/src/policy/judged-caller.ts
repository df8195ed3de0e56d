import type { ExecutionContext } from '@nestjs/common';
import type { ClientIdentity } from '../identity/client-identity.interface';

/** Identities the guard admitted, by the request (HTTP) or message context (RPC) they were judged for. */
const judged = new WeakMap<object, ClientIdentity>();
/** The class of the guard that admitted each one. */
const judgedBy = new WeakMap<object, object>();

/** The object that stands for one request or message: the HTTP request, or the RPC context. */
function carrierOf(context: ExecutionContext): object | undefined {
  const type = context.getType<string>();
  const carrier: unknown = type === 'http' ? context.switchToHttp().getRequest() : type === 'rpc' ? context.switchToRpc().getContext() : undefined;
  return typeof carrier === 'object' && carrier !== null ? carrier : undefined;
}

/** Remembers the identity the guard admitted for this request or message (and which guard class did). */
export function rememberJudgedCaller(context: ExecutionContext, identity: ClientIdentity, guard?: object): void {
  const carrier = carrierOf(context);
  if (!carrier) return;
  judged.set(carrier, identity);
  if (guard) judgedBy.set(carrier, guard);
}

/**
 * True when a guard of class `guard` already admitted this request or
 * message (a global guard and @RequireClientCert's both run): the second
 * one does not judge, log or count it again.
 */
export function alreadyJudgedBy(context: ExecutionContext, guard: object): boolean {
  const carrier = carrierOf(context);
  return carrier !== undefined && judgedBy.get(carrier) === guard;
}

/** The identity the guard admitted for this request or message; undefined when no ClientCertGuard ran. */
export function judgedCaller(context: ExecutionContext): ClientIdentity | undefined {
  const carrier = carrierOf(context);
  return carrier ? judged.get(carrier) : undefined;
}
