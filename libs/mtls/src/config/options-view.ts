import type { ResolvedMtlsOptions } from './mtls-options.interface';

/** The options that unlock our private key, or hand it over: never in a view. */
export const SECRET_OPTIONS = ['keyStorePassword', 'keyPassphrase', 'trustStorePassword', 'source'] as const;

/**
 * The options in force, as anything outside nest-mtls's loaders sees them
 * (`@InjectMtlsOptions()`, a material snapshot's `options`): the resolved
 * options (defaults applied, validated) without the passwords, the key
 * passphrase and the PEM source (its `read()` returns our key). Frozen.
 */
export type MtlsOptionsView = Readonly<Omit<ResolvedMtlsOptions, 'keyStorePassword' | 'keyPassphrase' | 'trustStorePassword' | 'source'>>;

/** A frozen copy of `options` without the secrets (arrays copied and frozen too). */
export function optionsView(options: ResolvedMtlsOptions): MtlsOptionsView {
  const view: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if ((SECRET_OPTIONS as readonly string[]).includes(name)) continue;
    view[name] = Array.isArray(value) ? Object.freeze([...(value as unknown[])]) : value;
  }
  return Object.freeze(view) as MtlsOptionsView;
}
