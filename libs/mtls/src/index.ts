// Public API of nest-mtls: everything users import comes from here
// (the development PKI is the separate entry point `nest-mtls/testing`).
export { MtlsError } from './errors/mtls.error';
export { logSafe, LOG_FIELD_MAX } from './logging/log-safe';
export * from './config';
export * from './identity';
export * from './material';
export * from './policy';
export * from './client';
export { MtlsMaterialSource, type MtlsRole } from './material/material-source';
export type { MtlsMaterialSnapshot } from './material/material-snapshot';
export { MTLS_ENDPOINT, isMtlsEndpoint, type MtlsEndpoint } from './server/mtls-endpoint';
export { MtlsModule } from './mtls.module';
export { MTLS_MODULE_OPTIONS, MTLS_OPTIONS_TYPE, MTLS_ASYNC_OPTIONS_TYPE } from './mtls.module-definition';
export type { MtlsModuleExtras } from './mtls.module-definition';
export { MtlsExpressAdapter } from './server/mtls-express-adapter';
export { runStartupChecks } from './server/startup-checks';
export { tlsServerOptions } from './server/tls-server-options';
export { exitOnStartupError } from './server/exit-on-startup-error';
