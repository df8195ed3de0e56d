import { Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import type { Server } from 'node:net';
import { MtlsIdentitySource } from '../guard/identity-source';
import { logSafe } from '../logging/log-safe';
import { RepeatSummarizer } from '../logging/repeat-summarizer';
import { peerAddressOf, peerHostOf } from '../logging/peer-address';

/**
 * With `forwardedCertHeader` set, removes that header (and `client-cert-chain`)
 * from every request whose TLS peer is not the trusted proxy, before the
 * framework sees the request: no handler, middleware or route without a
 * guard can read a certificate a caller forwarded on its own behalf. Runs as
 * the first `request` listener of the application's HTTP server (Express and
 * Fastify alike); the removal is logged once per peer and 10 s.
 */
@Injectable()
export class ForwardedHeaderFilter implements OnModuleInit {
  private readonly logger = new Logger('MtlsModule');
  private readonly lines = new RepeatSummarizer((line) => this.logger.warn(line));
  private installed = false;

  constructor(
    private readonly identities: MtlsIdentitySource,
    @Optional() private readonly host?: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    if (this.installed || this.identities.forwardedHeaders().length === 0) return;
    const server = (this.host?.httpAdapter as { getHttpServer?: () => unknown } | undefined)?.getHttpServer?.() as Server | undefined;
    if (!server || typeof server.prependListener !== 'function') return; // an application context or a microservice: no HTTP requests
    server.prependListener('request', (request: IncomingMessage) => this.filter(request));
    this.installed = true;
  }

  /** Removes the forwarded-certificate headers of `request` unless its peer is the trusted proxy. */
  filter(request: IncomingMessage): void {
    const removed = this.identities.stripUntrusted(request.headers, request.socket);
    if (removed.length === 0) return;
    // rawHeaders too, for code that reads them (name, value, name, value, ...).
    const raw = request.rawHeaders;
    if (Array.isArray(raw)) {
      for (let i = raw.length - 2; i >= 0; i -= 2) if (removed.includes(String(raw[i]).toLowerCase())) raw.splice(i, 2);
    }
    const peer = peerAddressOf(request.socket);
    this.lines.report(
      `${peerHostOf(peer)}\u0000${removed.join(',')}`,
      () => `removed ${removed.join(', ')} from a request of ${peer}, which is not the trusted proxy (${logSafe(request.method)} ${logSafe(request.url, 200)})`,
      (repeats, seconds) => `removed ${removed.join(', ')} from requests of ${peerHostOf(peer)}, which is not the trusted proxy: and ${repeats} more in the last ${seconds} s`,
    );
  }
}
