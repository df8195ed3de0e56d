// docs/reference/options.md: every option of MtlsModule with its MTLS_* variable,
// type, default, accepted values and doc comment, and the other option sets.
// Sources: the option interfaces' doc comments (TypeScript compiler API), and
// from the built library the tables the code itself uses: MTLS_ENV (what
// mtlsOptionsFromEnv reads), MTLS_DEFAULTS (what validateMtlsOptions applies),
// the class-validator rules of MtlsOptionsDto (what startup checks), ...
const { join } = require('node:path');
const { membersOf, docOfDeclaration } = require('./ts-members');
const { code, table, GENERATED } = require('./markdown');

const DIST = join(__dirname, '..', '..', 'libs', 'mtls', 'dist');
const dist = (file) => require(join(DIST, file));

/** What startup accepts for an option, from the class-validator rules of MtlsOptionsDto. */
function acceptedValues() {
  const { getMetadataStorage } = require(require.resolve('class-validator', { paths: [DIST] }));
  const { MtlsOptionsDto } = dist('config/mtls-options.dto.js');
  const rules = {};
  for (const meta of getMetadataStorage().getTargetValidationMetadatas(MtlsOptionsDto, '', true, false)) {
    const rule = (rules[meta.propertyName] ??= {});
    const name = meta.name ?? meta.type;
    if (name === 'min') rule.min = meta.constraints[0];
    if (name === 'max') rule.max = meta.constraints[0];
    if (name === 'isIn') rule.oneOf = meta.constraints[0];
    if (name === 'matches') rule.pattern = meta.constraints[0];
  }
  const described = {};
  for (const [option, rule] of Object.entries(rules)) {
    if (rule.oneOf) described[option] = rule.oneOf.map((v) => code(v)).join(', ');
    else if (rule.min !== undefined || rule.max !== undefined) described[option] = `${rule.min ?? '…'} to ${rule.max ?? '…'}`;
    else if (rule.pattern) described[option] = patternValues(rule.pattern);
  }
  return described;
}

/** `/^(a|b)$/i` as `a`, `b` (any case); another pattern as it is. */
function patternValues(pattern) {
  const alternatives = /^\^\(?([\w|-]+)\)?\$$/.exec(pattern.source);
  if (!alternatives) return code(String(pattern));
  return alternatives[1].split('|').map((v) => code(pattern.flags.includes('i') ? (v === v.toLowerCase() && v.length <= 5 ? v.toUpperCase() : v) : v)).join(', ') + (pattern.flags.includes('i') ? ' (any case)' : '');
}

const ENV_KINDS = {
  string: 'text',
  boolean: '`true`/`false` (also `1/0`, `yes/no`, `on/off`)',
  list: 'comma-separated list',
  paths: 'one path, or comma-separated paths',
  int: 'whole number',
};

function mtlsModuleSection() {
  const { MTLS_ENV, MTLS_CODE_ONLY_OPTIONS } = dist('config/mtls-env.js');
  const { MTLS_DEFAULTS } = dist('config/validate-mtls-options.js');
  const accepted = acceptedValues();
  const members = membersOf('config/mtls-options.interface.ts', 'MtlsOptions');
  const names = members.map((m) => m.name);
  const missing = [...Object.keys(MTLS_ENV), ...MTLS_CODE_ONLY_OPTIONS].filter((n) => !names.includes(n));
  if (missing.length > 0) throw new Error(`MTLS_ENV names options MtlsOptions does not declare: ${missing.join(', ')}`);
  const variableOf = (name) => MTLS_ENV[name]?.[0];
  const rows = members.map((m) => [
    `[\`${m.name}\`](#${m.name.toLowerCase()})`,
    variableOf(m.name) ? `\`${variableOf(m.name)}\`` : 'code only',
    code(m.type),
    code(MTLS_DEFAULTS[m.name]),
    accepted[m.name] ?? '',
  ]);
  const details = members.map((m) =>
    [
      `### ${m.name}`,
      '',
      [
        `Type: ${code(m.type)}`,
        variableOf(m.name) ? `Variable: \`${variableOf(m.name)}\` (${ENV_KINDS[MTLS_ENV[m.name][1]]})` : 'Variable: none (set in code only)',
        `Default: ${code(MTLS_DEFAULTS[m.name])}`,
        ...(accepted[m.name] ? [`Accepted: ${accepted[m.name]}`] : []),
      ].join('. ') + '.',
      '',
      m.doc,
    ].join('\n'),
  );
  return [
    '## MtlsModule',
    '',
    docOfDeclaration('config/mtls-options.interface.ts', 'MtlsOptions'),
    '',
    'Give them to `MtlsModule.forRoot(options)` (or `forRootAsync`), or set the variables and call `mtlsOptionsFromEnv()`: only variables that are set and not empty become options. A default of — means the option is off or unset unless given. An `MTLS_*` name nest-mtls does not know stops startup (a typo must not silently weaken the setup), and so does a value outside what is accepted, in one line naming the variable and the option.',
    '',
    table(['Option', 'Variable', 'Type', 'Default', 'Accepted'], rows),
    '',
    ...details.flatMap((d) => [d, '']),
  ].join('\n');
}

function otherVariablesSection() {
  const { MTLS_ENV_NOT_OPTIONS, SPIFFE_ENDPOINT_SOCKET } = dist('config/mtls-env.js');
  const rows = Object.entries(MTLS_ENV_NOT_OPTIONS).map(([variable, text]) => {
    const [reader, ...meaning] = text.split(': ');
    return [`\`${variable}\``, reader, meaning.join(': ')];
  });
  rows.push([`\`${SPIFFE_ENDPOINT_SOCKET}\``, 'spiffeWorkloadApiSource (nest-mtls/spiffe)', docOfDeclaration('config/mtls-env.ts', 'SPIFFE_ENDPOINT_SOCKET')]);
  return ['## Other variables', '', 'Variables read by other parts of nest-mtls, not by `mtlsOptionsFromEnv`.', '', table(['Variable', 'Read by', 'Meaning'], rows), ''].join('\n');
}

/**
 * An option set: name, variable, type, default and doc comment of each option;
 * the Variable and Default columns only where the code has variables or
 * defaults for the set (else the doc comment says the default).
 */
function optionSetSection({ title, file, name, intro, variables = {}, defaults = {} }) {
  const members = membersOf(file, name);
  const withVariables = Object.keys(variables).length > 0;
  const withDefaults = Object.keys(defaults).length > 0;
  const header = ['Option', ...(withVariables ? ['Variable'] : []), 'Type', ...(withDefaults ? ['Default'] : []), 'Meaning'];
  const rows = members.map((m) => [
    `\`${m.name}\``,
    ...(withVariables ? [variables[m.name] ? `\`${variables[m.name]}\`` : 'code only'] : []),
    code(m.type),
    ...(withDefaults ? [code(defaults[m.name])] : []),
    m.doc,
  ]);
  return [`## ${title}`, '', intro, '', docOfDeclaration(file, name), '', table(header, rows), ''].join('\n');
}

function optionsPage() {
  const { MTLS_SPIFFE_ENV, SPIFFE_ENDPOINT_SOCKET } = dist('config/mtls-env.js');
  const { ADMIN_DEFAULTS, ADMIN_ENV } = dist('admin/mtls-admin-options.js');
  const spiffe = dist('spiffe/spiffe-source-options.js');
  const tcp = dist('microservices/mtls-tcp-server-options.js');
  return [
    GENERATED,
    '',
    '# Options and variables',
    '',
    'Every option of nest-mtls, its environment variable, type, default and meaning, generated from the code that reads and checks them. Contents:',
    '',
    '- [MtlsModule](#mtlsmodule)',
    '- [Other variables](#other-variables)',
    '- [MtlsAdminModule (nest-mtls/admin)](#mtlsadminmodule-nest-mtlsadmin)',
    '- [spiffeWorkloadApiSource (nest-mtls/spiffe)](#spiffeworkloadapisource-nest-mtlsspiffe)',
    '- [mtlsOptionsWithDevPki (nest-mtls/dev-pki)](#mtlsoptionswithdevpki-nest-mtlsdev-pki)',
    '- [MtlsTcpServer (nest-mtls/microservices)](#mtlstcpserver-nest-mtlsmicroservices)',
    '- [enableGracefulShutdown (nest-mtls/app)](#enablegracefulshutdown-nest-mtlsapp)',
    '- [MtlsFastifyAdapter HTTP/2 (nest-mtls/fastify)](#mtlsfastifyadapter-http2-nest-mtlsfastify)',
    '',
    mtlsModuleSection(),
    otherVariablesSection(),
    optionSetSection({
      title: 'MtlsAdminModule (nest-mtls/admin)',
      file: 'admin/mtls-admin-options.ts',
      name: 'MtlsAdminOptions',
      intro: '`MtlsAdminModule.forRoot(options)`; `mtlsAdminOptionsFromEnv()` reads the variables.',
      variables: ADMIN_ENV,
      defaults: ADMIN_DEFAULTS,
    }),
    optionSetSection({
      title: 'spiffeWorkloadApiSource (nest-mtls/spiffe)',
      file: 'spiffe/spiffe-source-options.ts',
      name: 'SpiffeWorkloadApiSourceOptions',
      intro: '`spiffeWorkloadApiSource(options)`; `spiffeWorkloadApiSourceFromEnv()` reads the variables, and only when `' + MTLS_SPIFFE_ENV.enabled + '=true`.',
      variables: { socketPath: SPIFFE_ENDPOINT_SOCKET, spiffeId: MTLS_SPIFFE_ENV.spiffeId, staleAfterMs: MTLS_SPIFFE_ENV.staleAfterMs, startupTimeoutMs: MTLS_SPIFFE_ENV.startupTimeoutMs },
      defaults: { staleAfterMs: spiffe.DEFAULT_STALE_AFTER_MS, startupTimeoutMs: spiffe.DEFAULT_STARTUP_TIMEOUT_MS },
    }),
    optionSetSection({
      title: 'mtlsOptionsWithDevPki (nest-mtls/dev-pki)',
      file: 'pki/dev-pki-options.ts',
      name: 'DevPkiOptions',
      intro: '`mtlsOptionsWithDevPki(service, options)`: the development PKI, for development only. `MTLS_DEV_PKI_DIR` says where it lives (default `' + dist('pki/dev-pki-options.js').DEV_PKI_DIR + '`).',
      variables: { devPki: 'MTLS_DEV_PKI' },
      defaults: { devPki: false },
    }),
    optionSetSection({
      title: 'MtlsTcpServer (nest-mtls/microservices)',
      file: 'microservices/mtls-tcp-server-options.ts',
      name: 'MtlsTcpServerOptions',
      intro: '`MtlsTcpServer` options (`app.connectMicroservice({ strategy: ... })`), besides Nest\'s own TCP options; in code only.',
      defaults: { maxMessageBytes: tcp.DEFAULT_MAX_MESSAGE_BYTES, idleTimeoutMs: tcp.DEFAULT_IDLE_TIMEOUT_MS },
    }),
    optionSetSection({
      title: 'enableGracefulShutdown (nest-mtls/app)',
      file: 'shutdown/graceful-shutdown.ts',
      name: 'GracefulShutdownOptions',
      intro: '`enableGracefulShutdown(app, options)` and `shutdownGracefully(app, options)`; in code only (a service reads its own variable, e.g. `millisecondsSetting(\'SHUTDOWN_TIMEOUT_MS\', ...)` of nest-mtls/app).',
      defaults: { timeoutMs: dist('shutdown/graceful-shutdown.js').DEFAULT_SHUTDOWN_TIMEOUT_MS },
    }),
    optionSetSection({
      title: 'MtlsFastifyAdapter HTTP/2 (nest-mtls/fastify)',
      file: 'server/http2-server.ts',
      name: 'MtlsFastifyHttp2Options',
      intro: '`new MtlsFastifyAdapter({ http2: options })`; in code only. Defaults are in each option\'s meaning.',
    }),
  ].join('\n');
}

module.exports = { optionsPage };
