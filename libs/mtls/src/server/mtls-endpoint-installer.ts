import { Inject, Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { isMtlsEndpoint, MTLS_ENDPOINT } from './mtls-endpoint';
import { MtlsServing } from './mtls-serving';

/** Injection token of the `serve` extra of MtlsModule (false: the application only calls out). */
export const MTLS_SERVES = Symbol('nest-mtls:serves');

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
    private readonly serving: MtlsServing,
    /** The `serve` extra of MtlsModule: false when the application only calls out. */
    @Optional() @Inject(MTLS_SERVES) private readonly serves: boolean = true,
  ) {}

  onModuleInit(): void {
    const adapter = this.host.httpAdapter as unknown;
    if (!adapter) return; // an application context or a microservice: nothing serves HTTP
    if (isMtlsEndpoint(adapter)) {
      adapter[MTLS_ENDPOINT](this.serving);
      return;
    }
    const name = adapter.constructor?.name ?? 'the HTTP adapter';
    if (this.serves === false) {
      this.logger.log(`serving through ${name} without mutual TLS, as configured (MtlsModule serve: false): MtlsHttpClient calls out with our certificate`);
      return;
    }
    this.logger.warn(
      `this application imports MtlsModule but serves through ${name}: it does NOT serve mutual TLS, and routes guarded by @RequireClientCert refuse every request; pass new MtlsExpressAdapter() (nest-mtls) or new MtlsFastifyAdapter() (nest-mtls/fastify) to NestFactory.create (or MtlsModule.forRoot({ serve: false, ... }) for an application that only calls out)`,
    );
  }
}
