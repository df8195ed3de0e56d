// Entry point `nest-mtls/microservices`: Nest microservices over TCP with
// mutual TLS. Loads @nestjs/microservices (an optional peer dependency); the
// main entry `nest-mtls` never does. ClientCertGuard, @RequireClientCert and
// @ClientCert (from `nest-mtls`) work on @MessagePattern handlers.

// Serving: Nest's TCP transport with the application's MtlsModule material.
export { MtlsTcpServer, type MtlsTcpServerOptions } from './mtls-tcp-server';
export { mtlsTcpMicroservice } from './mtls-tcp-microservice';

// Calling: Nest's TCP client presenting our certificate.
export { MtlsTcpClient, mtlsTcpClient, type MtlsTcpClientOptions } from './mtls-tcp-client';
export { mtlsTcpClientTlsOptions } from './tcp-client-tls-options';
