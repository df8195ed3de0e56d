import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MtlsOptions } from './config/mtls-options.interface';

/** Extras of forRoot/forRootAsync besides the options themselves. */
export interface MtlsModuleExtras {
  /** Register the module globally, so the guard and client resolve everywhere (default true). */
  isGlobal?: boolean;
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
  .setExtras<MtlsModuleExtras>({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
