// Entry point `nest-mtls/grpc`: Nest's gRPC transport (@nestjs/microservices
// over @grpc/grpc-js) with mutual TLS. Loads @nestjs/microservices and
// @grpc/grpc-js (optional peer dependencies); the main entry `nest-mtls`
// never does. ClientCertGuard, @RequireClientCert and @ClientCert (from
// `nest-mtls`) work on @GrpcMethod handlers.

// Serving: Nest's gRPC transport with the application's MtlsModule material.
export { MtlsGrpcServer, type MtlsGrpcServerOptions } from './mtls-grpc-server';
export { mtlsGrpcMicroservice } from './mtls-grpc-microservice';

// Calling: grpc-js channel credentials presenting our certificate.
export { mtlsGrpcCredentials, type MtlsGrpcCredentialsOptions } from './grpc-channel-credentials';
