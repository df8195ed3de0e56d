// Entry point `nest-mtls/admin`: the admin port (plain HTTP, its own listener)
// with terminus health and prom-client metrics about the application's mutual
// TLS. Loads @nestjs/terminus and prom-client (optional peer dependencies);
// the main entry `nest-mtls` never does.

export { MtlsAdminModule } from './mtls-admin.module';
export { MTLS_ADMIN_OPTIONS } from './mtls-admin.module-definition';
export { mtlsAdminOptionsFromEnv, type MtlsAdminOptions } from './mtls-admin-options';
export { MtlsAdminServer, ADMIN_PATHS } from './admin-server';
export { MtlsHealth, type MtlsHealthAnswer } from './mtls-health';
export { MtlsMetrics } from './mtls-metrics';
