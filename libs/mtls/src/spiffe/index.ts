// Entry point `nest-mtls/spiffe`: TLS material from the SPIFFE Workload API
// (a SPIRE agent's Unix socket), as a `source` of MtlsModule. It loads
// @grpc/grpc-js and @grpc/proto-loader (optional peers); the main entry
// `nest-mtls` never does, so applications that read files need neither.
export { spiffeWorkloadApiSource, type SpiffeWorkloadApiSource } from './spiffe-workload-api-source';
export { type SpiffeWorkloadApiSourceOptions } from './spiffe-source-options';
export { spiffeWorkloadApiSourceFromEnv } from './spiffe-source-from-env';
