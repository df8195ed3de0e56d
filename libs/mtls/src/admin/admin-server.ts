import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { logLine } from '../logging/log-line';
import { MtlsPolicyInventory } from '../guard/policy-inventory';
import { MtlsDrainRegistry } from '../shutdown/drain-registry';
import { MTLS_DRAIN, type Drainable, type DrainOutcome } from '../shutdown/drainable';
import { HttpServerDrain } from '../shutdown/http-drain';
import { MTLS_ADMIN_OPTIONS } from './mtls-admin.module-definition';
import { resolveAdminOptions, type MtlsAdminOptions, type ResolvedMtlsAdminOptions } from './mtls-admin-options';
import { MtlsHealth } from './mtls-health';
import { MtlsMetrics } from './mtls-metrics';

/** The paths the admin port answers. */
export const ADMIN_PATHS = { health: '/health', live: '/health/live', metrics: '/metrics', policies: '/policies' } as const;

/**
 * The admin listener: plain HTTP on its own port, separate from the mTLS
 * port (Dropwizard's admin connector), because kubelet probes and Prometheus
 * present no client certificate. It answers GET (and HEAD) only:
 *
 * - `/health`: MtlsHealth, 200 `ok` or 503 `error` (readiness);
 * - `/health/live`: 200 while the process answers (liveness: a broken
 *   certificate file must take the pod out of rotation, not restart it into
 *   a crash loop);
 * - `/metrics`: MtlsMetrics in Prometheus' text format;
 * - `/policies`: MtlsPolicyInventory, every route and message pattern with
 *   who may call it in words, for the people who review the service (off
 *   with `policies: false`);
 *
 * anything else 404 (another method 405). No application route, guard,
 * middleware or pipe runs here, and nothing served is key material; the
 * policies are served here only, never to a caller of the mTLS port. Listens when the application bootstraps (only when `port` is
 * set), stops accepting on graceful shutdown with the other listeners, and
 * closes with the application.
 */
@Injectable()
export class MtlsAdminServer implements OnApplicationBootstrap, OnApplicationShutdown, Drainable {
  private readonly logger = new Logger('MtlsAdmin');
  private readonly options: ResolvedMtlsAdminOptions;
  private server?: Server;
  private unregister?: () => void;

  constructor(
    private readonly health: MtlsHealth,
    private readonly metrics: MtlsMetrics,
    /** Where MtlsModule's registry of listeners graceful shutdown drains is found (internal to nest-mtls, so not named here). */
    private readonly moduleRef: ModuleRef,
    @Inject(MTLS_ADMIN_OPTIONS) options: MtlsAdminOptions,
    private readonly inventory: MtlsPolicyInventory,
  ) {
    this.options = resolveAdminOptions(options);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { port, host } = this.options;
    if (port === undefined) return;
    const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => void this.answer(req, res));
    server.keepAliveTimeout = 5_000;
    HttpServerDrain.of(server, 'admin http');
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new MtlsConfigError('ADMIN_PORT', `the admin port cannot listen on ${host}:${port}: ${err.code ?? err.message}`)));
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.unregister = this.moduleRef.get(MtlsDrainRegistry, { strict: false }).register(this);
    const { address, port: bound } = server.address() as AddressInfo;
    logLine(this.logger, 'log', `admin port open on http://${address.includes(':') ? `[${address}]` : address}:${bound} (${this.paths().join(', ')}; no client certificate)`, {
      event: 'admin_listening',
      host: address,
      port: bound,
    });
  }

  /** Where it listens; undefined when it does not. */
  address(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  /** Graceful shutdown: stops accepting; scrapes and probes in flight finish. */
  async [MTLS_DRAIN](deadline: number): Promise<DrainOutcome> {
    if (!this.server) return { listener: 'admin http', inFlight: 0, cut: 0 };
    return HttpServerDrain.of(this.server)[MTLS_DRAIN](deadline);
  }

  async onApplicationShutdown(): Promise<void> {
    this.unregister?.();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The paths it answers: ADMIN_PATHS, without /policies when `policies: false`. */
  private paths(): string[] {
    return Object.values(ADMIN_PATHS).filter((path) => path !== ADMIN_PATHS.policies || this.options.policies);
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = (req.url ?? '/').split('?')[0];
      const known = this.paths().includes(path);
      if (!known) return send(res, req, 404, 'application/json', JSON.stringify({ statusCode: 404, message: 'Not Found' }));
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        return send(res, req, 405, 'application/json', JSON.stringify({ statusCode: 405, message: 'Method Not Allowed' }));
      }
      if (path === ADMIN_PATHS.live) return send(res, req, 200, 'application/json', JSON.stringify({ status: 'ok' }));
      if (path === ADMIN_PATHS.policies) return send(res, req, 200, 'application/json', JSON.stringify({ policies: this.inventory.list() }));
      if (path === ADMIN_PATHS.metrics) {
        const { contentType, body } = await this.metrics.scrape();
        return send(res, req, 200, contentType, body);
      }
      const { httpStatus, body } = await this.health.check();
      return send(res, req, httpStatus, 'application/json', JSON.stringify(body));
    } catch (err) {
      logLine(this.logger, 'error', `admin port: ${(err as Error)?.message ?? String(err)}`, { event: 'admin_error' });
      if (!res.headersSent) send(res, req, 500, 'application/json', JSON.stringify({ statusCode: 500, message: 'Internal server error' }));
    }
  }
}

function send(res: ServerResponse, req: IncomingMessage, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('content-type', type);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}
