import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MtlsMaterialSource } from '../material/material-source';
import { isMtlsEndpoint, MTLS_ENDPOINT } from './mtls-endpoint';

/**
 * Hands MtlsModule's material to the application's HTTP adapter when the
 * application initialises: the explicit joint between the module and the
 * adapter, the same under NestFactory and @nestjs/testing. An application
 * that serves through a plain adapter is told loudly that it does not serve
 * mutual TLS (its guarded routes then refuse every request).
 */
@Injectable()
export class MtlsEndpointInstaller implements OnModuleInit {
  private readonly logger = new Logger('MtlsModule');

  constructor(
    private readonly host: HttpAdapterHost,
    private readonly source: MtlsMaterialSource,
  ) {}

  onModuleInit(): void {
    const adapter = this.host.httpAdapter as unknown;
    if (!adapter) return; // an application context or a microservice: nothing serves HTTP
    if (isMtlsEndpoint(adapter)) {
      adapter[MTLS_ENDPOINT](this.source);
      return;
    }
    const name = (adapter as object).constructor?.name ?? 'the HTTP adapter';
    this.logger.warn(
      `this application imports MtlsModule but serves through ${name}: it does NOT serve mutual TLS, and routes guarded by @RequireClientCert refuse every request; pass new MtlsExpressAdapter() (nest-mtls) or new MtlsFastifyAdapter() (nest-mtls/fastify) to NestFactory.create`,
    );
  }
}
