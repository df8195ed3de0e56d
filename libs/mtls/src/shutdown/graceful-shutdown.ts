import { Logger, type INestApplicationContext } from '@nestjs/common';
import type { Server as HttpServer } from 'node:http';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { logLine } from '../logging/log-line';
import { MtlsDrainRegistry } from './drain-registry';
import { isDrainable, MTLS_DRAIN, type Drainable, type DrainOutcome } from './drainable';
import { HttpServerDrain } from './http-drain';

/** The default of `timeoutMs`: how long requests in flight get after SIGTERM. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** Options of {@link enableGracefulShutdown} and {@link shutdownGracefully}. */
export interface GracefulShutdownOptions {
  /**
   * How long requests and messages in flight may take to finish once the
   * signal came, in ms (default 10000, e.g. from SHUTDOWN_TIMEOUT_MS); then
   * the connections still open are closed. Keep it below the platform's
   * grace period (Kubernetes: `terminationGracePeriodSeconds`, 30 s by default).
   */
  timeoutMs?: number;
  /** The signals that shut the application down (default SIGTERM and SIGINT). SIGHUP is refused: it reloads the TLS material. */
  signals?: NodeJS.Signals[];
}

/** What one graceful shutdown did, as its log lines say. */
export interface ShutdownReport {
  /** The signal, when one asked for it. */
  signal?: string;
  /** One entry per listener: the HTTP(S) server, each TCP transport of nest-mtls, the admin port. */
  listeners: DrainOutcome[];
  /** Requests and messages in flight when the listeners stopped accepting. */
  inFlight: number;
  /** Connections closed at the deadline with work still in flight (0: everything finished). */
  cut: number;
  /** From the signal to the end of `app.close()`, in ms. */
  ms: number;
}

type AppLike = INestApplicationContext & {
  getHttpServer?: () => unknown;
  getMicroservices?: () => Array<{ getTransportServer?: () => unknown }>;
  getTransportServer?: () => unknown;
};

const logger = new Logger('GracefulShutdown');

/**
 * Shuts `app` down gracefully on SIGTERM and SIGINT (not SIGHUP, which
 * reloads the TLS material), instead of `app.enableShutdownHooks()`:
 *
 * 1. every listener stops accepting at once: the HTTP(S) server (the mTLS
 *    port of MtlsExpressAdapter, or a plain one), each `MtlsTcpServer`
 *    microservice, and the admin port of `nest-mtls/admin`;
 * 2. idle keep-alive connections are closed; requests and messages in flight
 *    finish (their connections close after the answer) for up to `timeoutMs`;
 *    whatever is still open then is closed;
 * 3. `app.close()` runs Nest's shutdown hooks: the outbound pools
 *    (MtlsHttpClient, MtlsTcpClient) and every module close;
 * 4. the process exits (code 0; 1 when closing failed). A second signal
 *    during the shutdown exits at once (code 1).
 *
 *     const app = await NestFactory.create(AppModule, new MtlsExpressAdapter());
 *     enableGracefulShutdown(app, { timeoutMs: millisecondsSetting('SHUTDOWN_TIMEOUT_MS', process.env.SHUTDOWN_TIMEOUT_MS, 10_000) });
 *
 * The mTLS adapters track requests from the start; with a plain adapter,
 * call it before `listen()` so that every request is tracked.
 */
export function enableGracefulShutdown(app: INestApplicationContext, options: GracefulShutdownOptions = {}): void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  if (signals.some((s) => s.toUpperCase() === 'SIGHUP')) {
    throw new MtlsConfigError('enableGracefulShutdown', 'SIGHUP reloads the TLS material and cannot also shut the application down; use SIGTERM or SIGINT');
  }
  checkTimeout(options.timeoutMs);
  trackHttpServer(app);
  let shuttingDown = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logLine(logger, 'warn', `${signal} again during the graceful shutdown: exiting now`, { event: 'shutdown_forced', signal });
      process.exit(1);
    }
    shuttingDown = true;
    shutdownGracefully(app, { ...options, signal }).then(
      () => process.exit(0),
      (err: unknown) => {
        logLine(logger, 'error', `shutdown failed: ${(err as Error)?.message ?? String(err)}`, { event: 'shutdown_failed', signal });
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
}

/**
 * The graceful shutdown itself, without signals or exit (for tests, or a
 * signal handler of your own): drains every listener of `app` (see
 * {@link enableGracefulShutdown}) until `timeoutMs` from now, then
 * `await app.close()`. Resolves with what happened.
 */
export async function shutdownGracefully(app: INestApplicationContext, options: GracefulShutdownOptions & { signal?: string } = {}): Promise<ShutdownReport> {
  const timeoutMs = checkTimeout(options.timeoutMs) ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const started = Date.now();
  const deadline = started + timeoutMs;
  const listeners = drainablesOf(app);
  const why = options.signal ? `${options.signal}: ` : '';
  logLine(logger, 'log', `${why}shutting down: no new connections; requests in flight get up to ${timeoutMs} ms`, {
    event: 'shutdown_started',
    signal: options.signal,
    timeoutMs,
  });
  const outcomes = await Promise.all(listeners.map((listener) => listener[MTLS_DRAIN](deadline)));
  const inFlight = outcomes.reduce((n, o) => n + o.inFlight, 0);
  const cut = outcomes.reduce((n, o) => n + o.cut, 0);
  const drainedMs = Date.now() - started;
  const names = outcomes.map((o) => o.listener).join(', ') || 'no listeners';
  if (cut > 0) {
    logLine(logger, 'warn', `stopped ${names}; ${cut} connection(s) still busy after ${timeoutMs} ms were closed`, { event: 'shutdown_drained', inFlight, cut, ms: drainedMs });
  } else {
    logLine(logger, 'log', `stopped ${names}; ${inFlight} request(s) in flight finished in ${drainedMs} ms`, { event: 'shutdown_drained', inFlight, cut, ms: drainedMs });
  }
  // Nest passes the signal on to the shutdown hooks (its typing omits the parameter).
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- the cast lets the signal through
  await (app.close as (signal?: string) => Promise<void>).call(app, options.signal);
  const ms = Date.now() - started;
  logLine(logger, 'log', `shut down in ${ms} ms`, { event: 'shutdown_done', ms });
  return { signal: options.signal, listeners: outcomes, inFlight, cut, ms };
}

function checkTimeout(timeoutMs: number | undefined): number | undefined {
  if (timeoutMs === undefined) return undefined;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw new MtlsConfigError('timeoutMs', `must be a whole number of milliseconds, 0 or more, got ${timeoutMs}`);
  return timeoutMs;
}

function isHttpServer(value: unknown): value is HttpServer {
  return typeof (value as Partial<HttpServer> | undefined)?.closeIdleConnections === 'function';
}

function trackHttpServer(app: AppLike): HttpServerDrain | undefined {
  const server = typeof app.getHttpServer === 'function' ? app.getHttpServer() : undefined;
  if (!isHttpServer(server)) return undefined;
  return HttpServerDrain.of(server, 'setSecureContext' in server ? 'https' : 'http');
}

/** Every listener of `app` that can be drained. */
function drainablesOf(app: AppLike): Drainable[] {
  const found: Drainable[] = [];
  const http = trackHttpServer(app);
  if (http) found.push(http);
  const transports = [
    ...(typeof app.getMicroservices === 'function' ? app.getMicroservices().map((m) => m.getTransportServer?.()) : []),
    typeof app.getTransportServer === 'function' ? app.getTransportServer() : undefined,
  ];
  for (const transport of transports) if (isDrainable(transport)) found.push(transport);
  let registry: MtlsDrainRegistry | undefined;
  try {
    registry = app.get(MtlsDrainRegistry, { strict: false });
  } catch {
    registry = undefined; // an application without MtlsModule
  }
  if (registry) found.push(...registry.drainables());
  return found;
}
