/** Where `MTLS_*` values come from: `process.env`, a plain record, or @nestjs/config's ConfigService. */
export type EnvSource = Record<string, string | undefined> | { get(name: string): unknown };

function isGetter(source: EnvSource): source is { get(name: string): unknown } {
  return typeof (source as { get?: unknown }).get === 'function';
}

/** One variable from an EnvSource, trimmed; undefined when unset or blank. */
export function readEnv(source: EnvSource, name: string): string | undefined {
  const value = isGetter(source) ? source.get(name) : source[name];
  if (value === undefined || value === null) return undefined;
  const text = (typeof value === 'string' ? value : String(JSON.stringify(value))).trim();
  return text === '' ? undefined : text;
}

/**
 * The names of the variables a source holds. A getter (ConfigService) cannot
 * list its names, so for it this is the real process environment: ConfigModule
 * copies the variables of its `.env` files into `process.env`, so they are
 * listed too (values from `load` factories are not variables and are not).
 */
export function variableNames(source: EnvSource): string[] {
  return Object.keys(isGetter(source) ? process.env : source);
}
