/**
 * One report for an error that stops an application while Nest creates it.
 * Nest's ExceptionHandler logs such an error and, with `abortOnError: false`,
 * rethrows it to the bootstrap, whose catch (`exitOnStartupError`) prints it
 * again as its one line. MtlsConsoleLogger hands the error here instead of
 * printing it; exitOnStartupError takes it back. An error nobody takes is
 * printed by the logger after all: once the promise jobs queued behind it
 * have run (the rejection reaches the bootstrap's catch in those), or when
 * the process exits first (Nest's default `abortOnError: true` exits right
 * after logging it). Nothing is ever lost, only said once.
 */
const held = new Map<object, () => void>();
let exitHooked = false;

/** Holds `err` back; `print` reports it unless {@link takeStartupError} takes it first. */
export function holdStartupError(err: object, print: () => void): void {
  held.set(err, print);
  setImmediate(() => release(err));
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      for (const pending of [...held.keys()]) release(pending);
    });
  }
}

/** Takes `err` back from the logger (its holder reports it now): the logger does not print it. */
export function takeStartupError(err: unknown): void {
  if (typeof err === 'object' && err !== null) held.delete(err);
}

function release(err: object): void {
  const print = held.get(err);
  if (!print) return;
  held.delete(err);
  print();
}
