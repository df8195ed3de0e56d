import { closestName } from './closest-name';
import { DROPWIZARD_ENV_SPELLINGS, dropwizardNameHint } from './dropwizard-names';
import { KNOWN_MTLS_VARIABLES } from './mtls-env';
import { MtlsConfigError } from '../errors/mtls-config.error';

const PREFIX = /^MTLS_/i;

/**
 * Refuses any `MTLS_`-prefixed name (any case) that nest-mtls does not know:
 * a misspelt `MTLS_VALIDATE_PEER=false` must stop the service, not leave
 * validatePeers at its default. One line names the first unknown variable
 * and the closest known name (a Dropwizard key written as a variable,
 * `MTLS_ENABLE_OCSP`, gets ours: `MTLS_OCSP`); further unknown ones are
 * listed after it.
 */
export function refuseUnknownMtlsVariables(names: readonly string[]): void {
  const unknown = names
    .filter((name) => PREFIX.test(name) && !KNOWN_MTLS_VARIABLES.includes(name))
    .sort((a, b) => a.toUpperCase().localeCompare(b.toUpperCase()));
  if (unknown.length === 0) return;
  const [first, ...others] = unknown;
  const suggestion = closestName(first, [...KNOWN_MTLS_VARIABLES, ...DROPWIZARD_ENV_SPELLINGS]);
  const dropwizard = dropwizardNameHint(first, 'env') ?? (suggestion !== undefined && !KNOWN_MTLS_VARIABLES.includes(suggestion) ? dropwizardNameHint(suggestion, 'env') : undefined);
  const hint = dropwizard
    ? dropwizard
    : suggestion === undefined
      ? 'no known name is close (nest-mtls reserves the MTLS_ prefix; its variables are listed in its options reference, docs/reference/options.md)'
      : `did you mean ${suggestion}?${suggestion === first.toUpperCase() ? ' (variable names are case-sensitive)' : ''}`;
  const more = others.length > 0 ? ` (also unknown: ${others.join(', ')})` : '';
  throw new MtlsConfigError(first, `not a setting of nest-mtls; ${hint}${more}`);
}
