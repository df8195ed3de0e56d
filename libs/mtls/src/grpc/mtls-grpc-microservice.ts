import type { AsyncMicroserviceOptions, CustomStrategy } from '@nestjs/microservices';
import { MtlsServing } from '../server/mtls-serving';
import { MtlsGrpcServer, type MtlsGrpcServerOptions } from './mtls-grpc-server';

/**
 * Microservice options that serve Nest's gRPC transport over mutual TLS
 * with the application's MtlsModule material, for both ways of starting one:
 *
 *     app.connectMicroservice(mtlsGrpcMicroservice({ url: '0.0.0.0:8445', package: 'users', protoPath }));   // hybrid
 *     await app.startAllMicroservices();
 *
 *     const app = await NestFactory.createMicroservice(AppModule, mtlsGrpcMicroservice({ ... }));
 *     await app.listen();
 *
 * Nest resolves `MtlsServing` from the application when it creates the
 * transport: without MtlsModule the application does not start.
 */
export function mtlsGrpcMicroservice(options: MtlsGrpcServerOptions): AsyncMicroserviceOptions & { useFactory: (serving: MtlsServing) => CustomStrategy } {
  return {
    inject: [MtlsServing],
    useFactory: (serving: MtlsServing): CustomStrategy => ({ strategy: new MtlsGrpcServer(serving, options) }),
  };
}
