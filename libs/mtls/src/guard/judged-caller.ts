import type { ExecutionContext } from '@nestjs/common';
import type { ClientIdentity } from '../identity/client-identity.interface';
import { callKindOf } from './call-context';

/** What a guard left for one request or message: the identity it admitted, and which guard class did. */
interface Judged {
  readonly identity: ClientIdentity;
  readonly by?: object;
}

/**
 * Where the guard leaves the identity it admitted (and which guard class
 * admitted it), by the request (HTTP) or message context (RPC) it was judged
 * for; an entry lives exactly as long as that object. A WeakMap, not a
 * property: adding a property to Express's request (a Node IncomingMessage
 * whose prototype Express replaced) costs several microseconds, an entry
 * here a fraction of one on either adapter.
 */
const judged = new WeakMap<object, Judged>();

/** The entry of an identity admitted by a guard class, made once per identity (not per request). */
const entries = new WeakMap<ClientIdentity, Judged>();

function entryOf(identity: ClientIdentity, by: object | undefined): Judged {
  let entry = entries.get(identity);
  if (!entry || entry.by !== by) entries.set(identity, (entry = { identity, by }));
  return entry;
}

/** Remembers the identity the guard admitted for this request or message (and which guard class did). */
export function rememberJudgedCaller(context: ExecutionContext, identity: ClientIdentity, guard?: object): void {
  const carrier = callKindOf(context).carrier(context);
  if (carrier) judged.set(carrier, entryOf(identity, guard));
}

/**
 * True when a guard of class `guard` already admitted this request or
 * message (a global guard and @RequireClientCert's both run): the second
 * one does not judge, log or count it again.
 */
export function alreadyJudgedBy(context: ExecutionContext, guard: object): boolean {
  const carrier = callKindOf(context).carrier(context);
  return carrier !== undefined && judged.get(carrier)?.by === guard;
}

/** The identity the guard admitted for this request or message; undefined when no ClientCertGuard ran. */
export function judgedCaller(context: ExecutionContext): ClientIdentity | undefined {
  const carrier = callKindOf(context).carrier(context);
  return carrier ? judged.get(carrier)?.identity : undefined;
}
