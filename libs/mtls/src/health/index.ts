// Entry point `nest-mtls/health`: a terminus health indicator of the
// application's mutual TLS, for a `/health` of your own. Loads
// @nestjs/terminus (an optional peer dependency); the main entry `nest-mtls`
// never does. The admin port (`nest-mtls/admin`) serves the same checks.
export { MtlsHealthIndicator, type MtlsHealthIndicatorOptions } from './mtls-health-indicator';
