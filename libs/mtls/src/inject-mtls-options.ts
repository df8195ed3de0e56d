import { Inject } from '@nestjs/common';

/** The injection token of the options view (internal: inject with `@InjectMtlsOptions()`). */
export const MTLS_OPTIONS_VIEW = Symbol('nest-mtls options view');

/**
 * Injects the options MtlsModule runs with, as an `MtlsOptionsView`: the
 * options given to `forRoot`/`forRootAsync` (or read from `MTLS_*`) with the
 * defaults applied and validated, frozen, and without the secrets
 * (`keyStorePassword`, `keyPassphrase`, `trustStorePassword`, and the PEM
 * `source`, whose `read()` returns our key): safe to log or to show on a
 * status page.
 *
 *     constructor(@InjectMtlsOptions() private readonly mtls: MtlsOptionsView) {}
 *     // this.mtls.needClientAuth, this.mtls.dnFormat, this.mtls.supportedProtocols, ...
 */
export function InjectMtlsOptions(): ParameterDecorator & PropertyDecorator {
  return Inject(MTLS_OPTIONS_VIEW);
}
