import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MtlsOptions } from './config/mtls-options.interface';
import { MTLS_SERVES } from './server/mtls-endpoint-installer';

/** Extras of forRoot/forRootAsync besides the options themselves. */
export interface MtlsModuleExtras {
  /** Register the module globally, so the guard and client resolve everywhere (default true). */
  isGlobal?: boolean;
  /**
   * `false` for an application that only calls other services with
   * MtlsHttpClient and serves no mutual TLS itself (e.g. plain HTTP for
   * browsers): its plain HTTP adapter is then expected, not warned about.
   * Default true: an application that imports MtlsModule is told loudly when
   * its adapter does not serve mutual TLS.
   */
  serve?: boolean;
}

/**
 * Nest's ConfigurableModuleBuilder parts of MtlsModule; `MTLS_MODULE_OPTIONS`
 * is the injection token of the raw options given to forRoot/forRootAsync.
 */
export const {
  ConfigurableModuleClass: MtlsConfigurableModule,
  MODULE_OPTIONS_TOKEN: MTLS_MODULE_OPTIONS,
  OPTIONS_TYPE: MTLS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MTLS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MtlsOptions>({ moduleName: 'Mtls' })
  .setClassMethodName('forRoot')
  .setExtras<MtlsModuleExtras>({ isGlobal: true, serve: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    providers: [...(definition.providers ?? []), { provide: MTLS_SERVES, useValue: extras.serve !== false }],
  }))
  .build();
