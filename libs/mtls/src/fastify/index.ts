// Entry point `nest-mtls/fastify`: mutual TLS on Nest's Fastify adapter. It
// loads @nestjs/platform-fastify (an optional peer); the main entry
// `nest-mtls` never does, so Express and microservice-only applications
// need not install Fastify. Everything else (MtlsModule, the guard,
// @RequireClientCert, @ClientCert) comes from `nest-mtls` and works on both.
export { MtlsFastifyAdapter, type MtlsFastifyAdapterOptions, type MtlsFastifyHttp2Options } from '../server/mtls-fastify-adapter';
