import { isSubstituted, type ConnectorMigration, type MigratedSetting } from './connector-migration';

/** A value as a POSIX shell (and dotenv) reads it back: bare when plain, else quoted. */
export function shellValue(value: string): string {
  if (/^[A-Za-z0-9_./:,@%+=-]+$/.test(value)) return value;
  // ${VAR} stays for the shell to fill in, as Dropwizard's EnvironmentVariableSubstitutor did.
  if (isSubstituted(value)) return `"${value.replace(/["`\\]/g, '\\$&').replace(/\$(?!\{)/g, '\\$')}"`;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A JavaScript string literal in single quotes. */
const jsString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;

/** `${VAR}` / `${VAR:-default}` text as the code that reads the same from process.env. */
function substitutedCode(value: string): string {
  const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/.exec(value);
  if (whole) return `process.env.${whole[1]}${whole[2] !== undefined ? ` ?? ${jsString(whole[2])}` : ''}`;
  const inner = value.replace(/[`\\]/g, '\\$&').replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => `\${process.env.${name}${fallback !== undefined ? ` ?? ${jsString(fallback)}` : ''}}`);
  return `\`${inner}\``;
}

/** An option's value as TypeScript in the forRoot snippet. */
function optionCode(setting: MigratedSetting): string {
  if (setting.secret) return `process.env.${setting.name}, // a password: keep it out of code`;
  const value = setting.optionValue;
  if (isSubstituted(value)) return substitutedCode(value as string);
  if (Array.isArray(value)) return `[${value.map((v) => jsString(String(v))).join(', ')}]`;
  if (typeof value === 'string') return jsString(value);
  return String(value);
}

/** How one connector's block is headed: where it was, its type and port. */
function heading(migration: ConnectorMigration): string {
  const { connector, port } = migration;
  return `# === ${connector.where}: ${connector.type}${connector.role === 'admin' ? ' admin connector' : ''}, port ${port} ===`;
}

/**
 * One connector's block: `NAME=value` lines (PORT first), its `# note:`
 * lines, the filter regex as `@RequireClientCert` guidance, and the same
 * settings as a commented `MtlsModule.forRoot({...})` snippet.
 */
export function renderConnector(migration: ConnectorMigration, dnRegex?: string): string[] {
  const lines = [heading(migration)];
  if (migration.connector.role === 'admin') {
    for (const s of migration.settings) lines.push(`${s.name}=${shellValue(s.value)}`);
    for (const note of migration.notes) lines.push(`# note: ${note}`);
    return lines;
  }
  lines.push(`PORT=${shellValue(migration.port)}`);
  if (migration.host !== undefined) lines.push(`HOST=${shellValue(migration.host)}`);
  for (const s of migration.settings) lines.push(`${s.name}=${shellValue(s.value)}`);
  for (const note of migration.notes) lines.push(`# note: ${note}`);
  if (dnRegex !== undefined) {
    lines.push(
      "# The filter's regex (--dn-regex), on the controllers or routes the CertificateValidationFilter guarded; with",
      '# dnFormat jdk the subject is the DN as Java prints it and a regex given as a string matches it whole, as',
      '# Matcher.matches() did (no env variable holds a route policy):',
      `#   @RequireClientCert(${jsString(dnRegex)})`,
    );
  }
  lines.push('# In code instead of the MTLS_* variables:', '#   MtlsModule.forRoot({');
  for (const s of migration.settings) if (s.option) lines.push(`#     ${s.option}: ${optionCode(s)}${s.secret ? '' : ','}`);
  lines.push('#   }),');
  const port = isSubstituted(migration.port) ? substitutedCode(migration.port) : migration.port;
  const host = migration.host === undefined ? '' : `, ${isSubstituted(migration.host) ? substitutedCode(migration.host) : jsString(migration.host)}`;
  lines.push(`#   // main.ts: await app.listen(${port}${host});`);
  return lines;
}
