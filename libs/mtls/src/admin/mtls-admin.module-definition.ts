import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MtlsAdminOptions } from './mtls-admin-options';

/**
 * Nest's ConfigurableModuleBuilder parts of MtlsAdminModule;
 * `MTLS_ADMIN_OPTIONS` is the injection token of the options given to
 * forRoot/forRootAsync.
 */
export const {
  ConfigurableModuleClass: MtlsAdminConfigurableModule,
  MODULE_OPTIONS_TOKEN: MTLS_ADMIN_OPTIONS,
} = new ConfigurableModuleBuilder<MtlsAdminOptions>({ moduleName: 'MtlsAdmin' }).setClassMethodName('forRoot').build();
