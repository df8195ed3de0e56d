import type { ExecutionContext } from '@nestjs/common';
import type { ClientIdentity } from '../identity/client-identity.interface';

/**
 * Where the guard leaves the identity it admitted (and which guard class
 * admitted it): symbol-keyed properties of the request (HTTP) or message
 * context (RPC) it was judged for, which live exactly as long as that object
 * (a property costs a fraction of a WeakMap entry on every request).
 */
const JUDGED = Symbol('nest-mtls:judged-caller');
const JUDGED_BY = Symbol('nest-mtls:judged-by');

type Carrier = object & { [JUDGED]?: ClientIdentity; [JUDGED_BY]?: object };

/** The object that stands for one request or message: the HTTP request, or the RPC context. */
function carrierOf(context: ExecutionContext): Carrier | undefined {
  const type = context.getType<string>();
  const carrier: unknown = type === 'http' ? context.switchToHttp().getRequest() : type === 'rpc' ? context.switchToRpc().getContext() : undefined;
  return typeof carrier === 'object' && carrier !== null ? (carrier as Carrier) : undefined;
}

/** Remembers the identity the guard admitted for this request or message (and which guard class did). */
export function rememberJudgedCaller(context: ExecutionContext, identity: ClientIdentity, guard?: object): void {
  const carrier = carrierOf(context);
  if (!carrier) return;
  carrier[JUDGED] = identity;
  if (guard) carrier[JUDGED_BY] = guard;
}

/**
 * True when a guard of class `guard` already admitted this request or
 * message (a global guard and @RequireClientCert's both run): the second
 * one does not judge, log or count it again.
 */
export function alreadyJudgedBy(context: ExecutionContext, guard: object): boolean {
  const carrier = carrierOf(context);
  return carrier !== undefined && carrier[JUDGED_BY] === guard;
}

/** The identity the guard admitted for this request or message; undefined when no ClientCertGuard ran. */
export function judgedCaller(context: ExecutionContext): ClientIdentity | undefined {
  const carrier = carrierOf(context);
  return carrier?.[JUDGED];
}
