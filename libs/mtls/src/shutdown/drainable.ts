/** What draining one listener came to. */
export interface DrainOutcome {
  /** The listener, for the log: `https 127.0.0.1:8443`, `tcp 127.0.0.1:8444`, `admin http 127.0.0.1:8081`. */
  listener: string;
  /** Requests (or messages) being handled when draining began. */
  inFlight: number;
  /** Connections still open at the deadline, closed then. */
  cut: number;
}

/**
 * The joint between graceful shutdown and a listener (the HTTP(S) server, a
 * TCP transport, the admin port): draining stops accepting new connections at
 * once, closes idle connections, lets requests in flight finish (their
 * connections close after the answer), and at `deadline` (ms since the epoch)
 * closes whatever is left. A registered symbol, so the joint holds across two
 * copies of the package.
 */
export const MTLS_DRAIN = Symbol.for('nest-mtls.drain');

/** A listener graceful shutdown can drain. */
export interface Drainable {
  [MTLS_DRAIN](deadline: number): Promise<DrainOutcome>;
}

/** True when `value` can be drained. */
export function isDrainable(value: unknown): value is Drainable {
  return typeof (value as Partial<Drainable> | undefined)?.[MTLS_DRAIN] === 'function';
}

/** Resolves true when `deadline` passes first, false when `done` settles first. */
export async function untilDeadline(done: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([done.then(() => false, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}
