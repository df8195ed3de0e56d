/**
 * The listeners of SIGHUP besides ours. Nest's `app.enableShutdownHooks()`
 * without a list of signals listens to SIGHUP too and shuts the application
 * down on it, so a reload request would stop the service.
 */
export function otherSighupListeners(ours: (...args: unknown[]) => void): number {
  return process.listeners('SIGHUP').filter((listener) => listener !== ours).length;
}
