export * from './mtls-options.interface';
export * from './mtls-config.error';
export * from './mtls-options-from-env';
export * from './validate-mtls-options';
export { resolveCipherSuites } from './cipher-suites';
export { resolveProtocols } from './tls-protocols';
export { httpsUrlSetting, portSetting } from './service-settings';
export { logLevelsSetting } from './log-levels';
