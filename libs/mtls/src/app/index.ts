// Entry point `nest-mtls/app`: what a service's main.ts needs besides mutual
// TLS, for services that fail fast and log safely like nest-mtls' own:
// settings read from the environment that stop startup with one line naming
// the variable, MtlsConsoleLogger (text or JSON), graceful shutdown, the one
// line a startup error ends with, and log text a peer cannot forge.
// Nothing here knows TLS material; the main entry `nest-mtls` does not export it.

// Starting and stopping: one line for a startup error, graceful shutdown.
export { exitOnStartupError } from '../server/exit-on-startup-error';
export { enableGracefulShutdown, shutdownGracefully, DEFAULT_SHUTDOWN_TIMEOUT_MS, type GracefulShutdownOptions, type ShutdownReport } from '../shutdown/graceful-shutdown';
export type { DrainOutcome } from '../shutdown/drainable';

// Logs as text or JSON, and log lines a peer cannot forge.
export { MtlsConsoleLogger, logFormatSetting, type LogFormat } from '../logging/mtls-console-logger';
export { logSafe, LOG_FIELD_MAX } from '../logging/log-safe';

// Settings of a service that fail fast like ours.
export { portSetting, httpsUrlSetting, millisecondsSetting, spiffeIdSetting } from '../config/service-settings';
export { logLevelsSetting } from '../config/log-levels';
