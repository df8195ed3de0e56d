import type { EnvKind } from './mtls-env';
import { MtlsConfigError } from '../errors/mtls-config.error';

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/**
 * The value of one (trimmed, non-empty) variable as its option takes it:
 * strings as they are, comma lists split, whole numbers, booleans
 * `true/false/1/0/yes/no/on/off`. Anything else is an MtlsConfigError naming
 * the variable and the option. `paths` is a comma list that stays a plain
 * string when it names one path.
 */
export function parseEnvValue(variable: string, option: string, kind: EnvKind, value: string): unknown {
  switch (kind) {
    case 'string':
      return value;
    case 'list':
      return value.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
    case 'paths': {
      const paths = value.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
      return paths.length === 1 ? paths[0] : paths;
    }
    case 'int':
      if (!/^\d+$/.test(value)) throw new MtlsConfigError(option, `expected a whole number, got "${value}"`, variable);
      return Number(value);
    case 'boolean': {
      const lower = value.toLowerCase();
      if (TRUE.includes(lower)) return true;
      if (FALSE.includes(lower)) return false;
      throw new MtlsConfigError(option, `expected true or false, got "${value}"`, variable);
    }
  }
}
