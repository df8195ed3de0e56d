import type { AsyncMicroserviceOptions, CustomStrategy } from '@nestjs/microservices';
import { MtlsServing } from '../server/mtls-serving';
import { MtlsTcpServer, type MtlsTcpServerOptions } from './mtls-tcp-server';

/**
 * Microservice options that serve Nest's TCP transport over mutual TLS with
 * the application's MtlsModule material, for both ways of starting one:
 *
 *     app.connectMicroservice(mtlsTcpMicroservice({ port: 8444 }));       // hybrid
 *     await app.startAllMicroservices();
 *
 *     const app = await NestFactory.createMicroservice(AppModule, mtlsTcpMicroservice({ port: 8444 }));
 *     await app.listen();
 *
 * Nest resolves `MtlsServing` (MtlsModule's material, revocation checks and
 * events) from the application when it creates the transport, so the
 * material cannot be forgotten: without MtlsModule the application does not
 * start (Nest cannot resolve MtlsServing).
 */
export function mtlsTcpMicroservice(options: MtlsTcpServerOptions = {}): AsyncMicroserviceOptions & { useFactory: (serving: MtlsServing) => CustomStrategy } {
  return {
    inject: [MtlsServing],
    useFactory: (serving: MtlsServing): CustomStrategy => ({ strategy: new MtlsTcpServer(serving, options) }),
  };
}
