import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { migrateAdminConnector, migrateApplicationConnector, type ConnectorMigration } from '../dropwizard/connector-migration';
import { DropwizardConfigError, dropwizardConnectors } from '../dropwizard/dropwizard-connectors';
import { renderConnector } from '../dropwizard/render-migration';
import { javaFullMatchRegExp } from '../../policy/java-regex';
import { type CliCommand, type CliIo, CommandError, parseCommandArgs, stringOption, UsageError } from './command';

const HELP = `Usage: mtls migrate dropwizard CONFIG.yml [--dn-regex REGEX]

Reads a Dropwizard configuration and prints, for each https connector
(server.applicationConnectors, server.adminConnectors, or the simple
server's server.connector), the settings that reproduce it: PORT and the
MTLS_* variables, one per line, in shell syntax (set -a; . ./FILE; set +a),
then the same as a MtlsModule.forRoot({...}) snippet, as comments. Every key
is carried over or named: a '# note:' line says where the meaning or the
default differs here. An https admin connector becomes ADMIN_PORT, nest-mtls's
plain-HTTP admin listener.

--dn-regex REGEX is the regex of the article's CertificateValidationFilter
(as Pattern.compile received it, e.g. '^CN=home-page-service, OU=Engineering, .*$'):
it is carried over with MTLS_DN_FORMAT=jdk, under which the subject is the DN
as Java prints it and a string regex matches it whole (Matcher.matches()),
and printed as the @RequireClientCert(...) to put on the routes it guarded.

Exit status: 0 printed; 1 the file cannot be read; 2 usage, a file that is
not a Dropwizard configuration or has no https connector, or a key that
cannot be carried over (the line names it and says what to do).

Options:
  --dn-regex REGEX  the CertificateValidationFilter's subject DN regex
  -h, --help        this help
`;

/** The command's refusal: exit 2 with one line (no hint to --help: the line says what to change). */
class MigrationRefused extends Error {}

export const migrateDropwizardCommand: CliCommand = {
  name: 'migrate dropwizard',
  summary: "print the MTLS_* settings that reproduce a Dropwizard config's https connectors",
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, { 'dn-regex': { type: 'string' } });
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing CONFIG.yml' : `expected one CONFIG.yml, got ${positionals.length} arguments`);
    const file = positionals[0];
    const dnRegex = stringOption(values, 'dn-regex');
    if (dnRegex !== undefined) {
      if (dnRegex.trim() === '') throw new UsageError('--dn-regex is empty');
      try {
        javaFullMatchRegExp(dnRegex); // what dnFormat: 'jdk' will do with it at startup
      } catch (err) {
        throw new UsageError(`--dn-regex: the Java regex cannot be carried over exactly: ${(err as Error).message}`);
      }
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new CommandError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    try {
      io.stdout.write(`${migrate(file, text, dnRegex).join('\n')}\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof MigrationRefused || err instanceof DropwizardConfigError)) throw err;
      io.stderr.write(`mtls migrate dropwizard: ${file}: ${err.message}\n`);
      return 2;
    }
  },
};

/** The output lines for the configuration `text`; MigrationRefused or DropwizardConfigError when it cannot be carried over. */
function migrate(file: string, text: string, dnRegex: string | undefined): string[] {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const [first] = document.errors;
    const line = first.linePos?.[0];
    throw new DropwizardConfigError(`not valid YAML${line ? ` (line ${line.line}, column ${line.col})` : ''}: ${first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const server = dropwizardConnectors(document.toJS());
  const https = server.connectors.filter((c) => c.type === 'https' || c.type === 'h2');
  const application = https.filter((c) => c.role === 'application');
  if (https.length === 0) {
    const found = server.connectors.map((c) => `${c.where} is ${c.type}`).join(', ');
    throw new DropwizardConfigError(`no https connector${found ? ` (${found})` : ' (none is configured: Dropwizard serves plain HTTP on 8080 and 8081)'}`);
  }
  if (dnRegex !== undefined && application.length === 0) throw new DropwizardConfigError('--dn-regex: no https application connector to carry the regex over to (admin connectors serve no application routes)');
  const migrations: ConnectorMigration[] = server.connectors
    .filter((c) => c.type === 'https' || c.type === 'h2' || (c.role === 'admin' && c.type === 'http'))
    .map((c) => (c.role === 'admin' ? migrateAdminConnector(c) : migrateApplicationConnector(c, { dnRegex })));
  const refused = migrations.filter((m) => m.refusals.length > 0);
  if (refused.length > 0) {
    // One line: the first refusal in full, then every other refused key by name.
    const [first, ...others] = refused[0].refusals;
    const more = [...others.map((r) => r.split(':')[0]), ...refused.slice(1).flatMap((m) => m.refusals.map((r) => `${m.connector.where}.${r.split(':')[0]}`))];
    throw new MigrationRefused(`${refused[0].connector.where}.${first}${more.length > 0 ? ` (also cannot be carried over: ${more.join(', ')})` : ''}`);
  }

  const lines = [`# nest-mtls settings for the https connectors of ${file} (mtls migrate dropwizard).`, '# Shell syntax: set -a; . ./THIS_FILE; set +a (or give each NAME=value to the service\'s environment).'];
  if (application.length > 1) {
    lines.push(`# note: ${application.length} https application connectors: a nest-mtls service serves one HTTPS port (one MtlsModule): run one service per block`);
  }
  if (server.contextPaths) {
    lines.push(
      `# note: simple server: Dropwizard serves the application under ${server.contextPaths.application} and the admin under ${server.contextPaths.admin} on this one connector; a Nest app serves its routes at / (app.setGlobalPrefix(${JSON.stringify(server.contextPaths.application.replace(/^\/+/, ''))}) keeps the paths) and nest-mtls's admin listener has its own port (ADMIN_PORT)`,
    );
  }
  if (migrations.some((m) => m.settings.some((s) => s.value.includes('${')) || m.port.includes('${') || m.host?.includes('${'))) {
    lines.push('# note: ${VAR} values are left for the shell to fill in from the environment, as Dropwizard\'s EnvironmentVariableSubstitutor did: source this with sh');
  }
  if (dnRegex !== undefined && /\\\\/.test(dnRegex)) {
    lines.push('# note: --dn-regex has a doubled backslash, which matches a backslash: in Java source "\\\\." is the regex \\. (give the regex as Pattern.compile received it)');
  }
  for (const c of server.connectors.filter((c) => !migrations.some((m) => m.connector === c))) {
    lines.push(`# skipped: ${c.where}: type ${c.type} (${c.type === 'h2c' ? 'HTTP/2 without TLS' : 'plain HTTP'}): nest-mtls serves HTTPS with client certificates`);
  }
  for (const migration of migrations) lines.push('', ...renderConnector(migration, migration.connector.role === 'application' ? dnRegex : undefined));
  return lines;
}
