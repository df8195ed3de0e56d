import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';

const SRC = join(__dirname, '..', '..', 'libs', 'mtls', 'src');

/** `export const { A, B } = builder.build()`: the doc comment sits on the statement, not on A. */
function hasStatementDoc(declaration: ts.Node): boolean {
  let node: ts.Node | undefined = declaration;
  while (node && !ts.isVariableStatement(node) && !ts.isSourceFile(node)) node = node.parent;
  return !!node && ts.isVariableStatement(node) && ts.getJSDocCommentsAndTags(node).length > 0;
}

/** Every .ts file under `dir`. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The exports of an entry point as TypeScript sees them (values and types), each with whether it has a doc comment. */
function exportsOf(entry: string): Map<string, boolean> {
  const program = ts.createProgram([entry], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, experimentalDecorators: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const out = new Map<string, boolean>();
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const documented = symbol.getDocumentationComment(checker).length > 0 || (symbol.declarations ?? []).some(hasStatementDoc);
    out.set(exported.name, documented);
  }
  return out;
}

/**
 * The public API is a deliberate list: adding or removing an export means
 * changing this test (and the CHANGELOG). Internals (store readers, chain
 * ordering, startup checks, the env table, regex helpers) stay internal.
 */
describe('public API', () => {
  const main = exportsOf(join(SRC, 'index.ts'));
  const testing = exportsOf(join(SRC, 'testing', 'index.ts'));
  const microservices = exportsOf(join(SRC, 'microservices', 'index.ts'));
  const grpc = exportsOf(join(SRC, 'grpc', 'index.ts'));
  const admin = exportsOf(join(SRC, 'admin', 'index.ts'));
  const fastify = exportsOf(join(SRC, 'fastify', 'index.ts'));
  const app = exportsOf(join(SRC, 'app', 'index.ts'));
  const devPki = exportsOf(join(SRC, 'dev-pki', 'index.ts'));
  const health = exportsOf(join(SRC, 'health', 'index.ts'));
  const spiffe = exportsOf(join(SRC, 'spiffe', 'index.ts'));

  it('nest-mtls exports exactly these names', () => {
    expect([...main.keys()].sort()).toEqual(
      [
        'CLIENT_CERT_POLICY', 'ClientCert', 'ClientCertForbiddenException', 'ClientCertGuard', 'ClientCertPolicy', 'ClientCertRequirement', 'ClientCertRule',
        'CrlCheck', 'CrlRevocation', 'MtlsRevocationCheck', 'ParsedCrl', 'RevocationFailure', 'RevocationSource',
        'ClientIdentity', 'DnFormatError', 'EnvSource', 'GuardDecision', 'MtlsEvents', 'TlsRefusal', 'KeyMaterial', 'KeyStoreType', 'LoadedCrl', 'MTLS_CLIENT_ERROR_CODES', 'MTLS_ENDPOINT',
        'MtlsClientError', 'MtlsClientErrorCode', 'MtlsClientErrorKind', 'MtlsClientErrorOptions', 'MtlsConfigError', 'MtlsEndpoint',
        'MtlsError', 'MtlsExpressAdapter', 'MtlsHttpClient', 'MtlsMaterialSnapshot', 'MtlsMaterialSource', 'MtlsModule', 'MtlsModuleExtras', 'MtlsOptions',
        'MtlsReloadResult', 'MtlsRequest', 'MtlsResponse', 'MtlsRole', 'MtlsServing', 'MtlsPemSource', 'MtlsPemMaterial', 'NO_CERTIFICATE_MESSAGE', 'PeerCertificateState', 'REFUSAL_REASONS', 'RefusalReason', 'RequireClientCert',
        'ResolvedMtlsOptions', 'SUBJECT_NOT_RECOGNIZED_MESSAGE', 'SubjectAltNames', 'TlsMaterial', 'TlsProtocol', 'TrustMaterial', 'IntermediateMaterial', 'allOf', 'anyOf',
        'anyVerifiedClient', 'fingerprintIn', 'formatDn', 'hasDnsName', 'hasSpiffeId', 'hasUri',
        'identityFromCertificate', 'isMtlsEndpoint', 'issuerDn', 'mtlsOptionsFromEnv', 'peerCertificateState', 'peerIdentity',
        'subjectAltNames', 'subjectDn', 'subjectMatches',
        // Typed rules: matchers, and policies in words.
        'OneOrMany', 'describePolicy', 'explainPolicy', 'PolicyExplanation', 'hasCommonName', 'hasEmail', 'hasIpAddress', 'hasOrganizationalUnit',
        'inTrustDomain', 'issuerMatches',
        // Default policy, audit mode, trusted proxy, endpoint identification, policy inventory.
        'CLIENT_CERT_MODE', 'CallerState', 'ChainProblem', 'ClientCertMode', 'ClientChainOptions', 'ClientChainVerdict', 'DefaultPolicy', 'EndpointIdentification',
        'ForwardedCertHeader', 'GuardRefusalReason', 'MtlsCounts', 'GuardDecisionCount', 'GuardRefusalCount', 'GuardOutcome', 'MtlsIdentitySource', 'MtlsPolicyInventory', 'PolicyInventoryEntry', 'PolicyMode', 'RequireAnyClientCert',
        'RevocationLookup', 'denyEveryClient', 'verifyClientChain',
        // The article's DN form (dnFormat: 'jdk').
        'DnFormat',
        // A policy's decision with its reason (which rule, what it wanted, what was found).
        'ClientCertDecision', 'PolicyRuleCode', 'decidePolicy', 'ClientCertAdmission', 'ClientCertRefusal',
        // What ClientCertGuard's protected judge/refuse/record take (for subclasses).
        'GuardProblem', 'GuardVerdict', 'RefusalStatus',
        // Types every public declaration names; the options in force without secrets; a server made by hand.
        'SecurityLevel', 'EndpointVerdict', 'InjectMtlsOptions', 'MtlsOptionsView', 'bindMtlsServer', 'MtlsServerBinding',
        // How a connection was set up: protocol, suite, key-exchange group (groups).
        'TlsConnection', 'TlsConnectionInfo', 'TlsHandshake', 'tlsConnectionOf',
      ].sort(),
    );
  });

  it('nest-mtls/testing exports test helpers only (certificates made in memory, a guard for tests without TLS), and the main entry none of it', () => {
    expect([...testing.keys()].sort()).toEqual(
      [
        'CertificateSpec', 'CrlOptions', 'CrlReason', 'ExtendedKeyUsageName', 'IssuedCertificate', 'KeyAlgorithm', 'Pkcs12Options', 'RevokedCertificate',
        'createCrl', 'createIntermediateCa', 'createRootCa', 'isSelfSigned', 'issueCertificate', 'nameFromRfc4514', 'randomSerialNumber', 'toPkcs12',
        // Tests without TLS: ClientCertGuard judging a given caller.
        'clientCertGuardFor', 'testClientIdentity',
      ].sort(),
    );
    for (const name of testing.keys()) expect(main.has(name)).toBe(false);
  });

  it('nest-mtls/dev-pki exports the development PKI on disk, and no other entry any of it', () => {
    expect([...devPki.keys()].sort()).toEqual(
      [
        'DEFAULT_PKI_PASSWORD', 'DEFAULT_SERVICES', 'DEV_PKI_DIR', 'DevPkiOptions', 'GLOBAL_CA_SUBJECT', 'InitPkiOptions', 'PkiFiles', 'PkiIssueSpec', 'PkiLayout',
        'ROOT_CA_SUBJECT', 'RevokedInPki', 'checkServiceName', 'ensureDevPki', 'initPki', 'issueIntoPki', 'loadIssuedCertificate', 'mtlsOptionsWithDevPki', 'openPki',
        'publishCrl', 'revokeInPki',
      ].sort(),
    );
    for (const name of devPki.keys()) expect(main.has(name) || testing.has(name)).toBe(false);
  });

  it('nest-mtls/app exports the helpers of a service\'s main.ts, and the main entry none of it', () => {
    expect([...app.keys()].sort()).toEqual(
      [
        'DEFAULT_SHUTDOWN_TIMEOUT_MS', 'DrainOutcome', 'GracefulShutdownOptions', 'LOG_FIELD_MAX', 'LogFormat', 'MtlsConsoleLogger', 'ShutdownReport',
        'enableGracefulShutdown', 'exitOnStartupError', 'httpsUrlSetting', 'logFormatSetting', 'logLevelsSetting', 'logSafe', 'millisecondsSetting', 'portSetting',
        'shutdownGracefully', 'spiffeIdSetting',
      ].sort(),
    );
    for (const name of app.keys()) expect(main.has(name)).toBe(false);
  });

  it('nest-mtls/health exports the terminus health indicator, and the main entry none of it', () => {
    expect([...health.keys()].sort()).toEqual(['MtlsHealthIndicator', 'MtlsHealthIndicatorOptions']);
    for (const name of health.keys()) expect(main.has(name)).toBe(false);
  });

  it('nest-mtls/microservices exports the TCP transport and client, and the main entry none of it', () => {
    expect([...microservices.keys()].sort()).toEqual(
      ['MtlsTcpClient', 'MtlsTcpClientOptions', 'MtlsTcpServer', 'MtlsTcpServerOptions', 'mtlsTcpClient', 'mtlsTcpClientTlsOptions', 'mtlsTcpMicroservice'].sort(),
    );
    for (const name of microservices.keys()) expect(main.has(name)).toBe(false);
  });

  it('nest-mtls/grpc exports the gRPC transport and client credentials, and the main entry none of it', () => {
    expect([...grpc.keys()].sort()).toEqual(['MtlsGrpcCredentialsOptions', 'MtlsGrpcServer', 'MtlsGrpcServerOptions', 'mtlsGrpcCredentials', 'mtlsGrpcMicroservice'].sort());
    for (const name of grpc.keys()) expect(main.has(name)).toBe(false);
  });

  it('nest-mtls/admin exports the admin port, health and metrics, and the main entry none of it', () => {
    expect([...admin.keys()].sort()).toEqual(
      ['ADMIN_PATHS', 'MTLS_ADMIN_OPTIONS', 'MtlsAdminModule', 'MtlsAdminOptions', 'MtlsAdminServer', 'MtlsHealth', 'MtlsHealthAnswer', 'MtlsMetrics', 'mtlsAdminOptionsFromEnv'].sort(),
    );
    for (const name of admin.keys()) expect(main.has(name)).toBe(false);
  });

  // The built package (npm test builds first), with the optional peers of one entry point made unresolvable.
  it.each([
    ['@nestjs/terminus and prom-client', '(@nestjs\\/terminus|prom-client)', 'admin', /Cannot find module (@nestjs\/terminus|prom-client)/],
    ['@nestjs/microservices', '@nestjs\\/microservices', 'microservices', /Cannot find module @nestjs\/microservices/],
    ['@nestjs/platform-fastify', '@nestjs\\/platform-fastify', 'fastify', /Cannot find module @nestjs\/platform-fastify/],
    ['@nestjs/terminus', '@nestjs\\/terminus', 'health', /Cannot find module @nestjs\/terminus/],
    ['@grpc/grpc-js and @grpc/proto-loader', '@grpc\\/(grpc-js|proto-loader)', 'spiffe', /Cannot find module @grpc\/(grpc-js|proto-loader)/],
    ['@grpc/grpc-js', '@grpc\\/grpc-js', 'grpc', /Cannot find module @grpc\/grpc-js/],
  ])('the main entry loads without %s (optional peers); its own entry point needs them', (_peers, pattern, entry, missing) => {
    const dist = join(__dirname, '..', '..', 'libs', 'mtls', 'dist');
    const hide = `const M = require('node:module'); const resolve = M._resolveFilename;
      M._resolveFilename = function (request, ...rest) {
        if (/^${pattern}(\\/|$)/.test(request)) throw Object.assign(new Error('Cannot find module ' + request), { code: 'MODULE_NOT_FOUND' });
        return resolve.call(this, request, ...rest);
      };`;
    const load = (file: string) => spawnSync(process.execPath, ['-e', `${hide} require(${JSON.stringify(join(dist, file))}); console.log('loaded')`], { encoding: 'utf8' });
    const main = load('index.js');
    expect(main.stderr).toBe('');
    expect(main.stdout.trim()).toBe('loaded');
    const own = load(join(entry, 'index.js'));
    expect(own.status).not.toBe(0);
    expect(own.stderr).toMatch(missing);
  });

  it('nest-mtls/fastify exports the Fastify adapter, and the main entry none of it (it must load without @nestjs/platform-fastify)', () => {
    expect([...fastify.keys()].sort()).toEqual(['MtlsFastifyAdapter', 'MtlsFastifyAdapterOptions', 'MtlsFastifyHttp2Options']);
    for (const name of fastify.keys()) expect(main.has(name)).toBe(false);
  });

  it('only nest-mtls/fastify imports @nestjs/platform-fastify', () => {
    const importers = sourceFiles(SRC).filter((file) => /from '@nestjs\/platform-fastify'|require\('@nestjs\/platform-fastify'\)/.test(readFileSync(file, 'utf8')));
    expect(importers.map((f) => f.slice(SRC.length + 1))).toEqual(['server/mtls-fastify-adapter.ts']);
    const program = ts.createProgram([join(SRC, 'index.ts')], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, experimentalDecorators: true, skipLibCheck: true, noResolve: false });
    const reachable = program.getSourceFiles().map((f) => f.fileName).filter((f) => f.startsWith(SRC));
    expect(reachable.filter((f) => f.endsWith('mtls-fastify-adapter.ts'))).toEqual([]);
  });

  it('nest-mtls/spiffe exports the SPIFFE Workload API source, and the main entry none of it (it must load without @grpc/grpc-js)', () => {
    expect([...spiffe.keys()].sort()).toEqual(['SpiffeWorkloadApiSource', 'SpiffeWorkloadApiSourceOptions', 'spiffeWorkloadApiSource', 'spiffeWorkloadApiSourceFromEnv']);
    for (const name of spiffe.keys()) expect(main.has(name)).toBe(false);
  });

  it('production code (apps/*) takes nothing from nest-mtls/testing or nest-mtls/internal: the dev PKI it runs on is nest-mtls/dev-pki', () => {
    const apps = join(__dirname, '..', '..', 'apps');
    const files = sourceFiles(apps);
    expect(files.length).toBeGreaterThan(10);
    const importers = files.filter((file) => /(from|import|require\()\s*\(?['"]nest-mtls\/(testing|internal)['"]/.test(readFileSync(file, 'utf8')));
    expect(importers.map((f) => f.slice(apps.length + 1))).toEqual([]);
    // The check can see one: the apps do import the dev PKI from its own entry.
    expect(files.filter((file) => /from 'nest-mtls\/dev-pki'/.test(readFileSync(file, 'utf8'))).length).toBeGreaterThan(0);
  });

  it('every export has a doc comment', () => {
    const undocumented = [...main, ...testing, ...microservices, ...grpc, ...admin, ...fastify, ...app, ...devPki, ...health, ...spiffe].filter(([, documented]) => !documented).map(([name]) => name);
    expect(undocumented).toEqual([]);
  });

  it('the entry points name their exports (no `export *`)', () => {
    for (const file of ['index.ts', ...['testing', 'microservices', 'grpc', 'admin', 'fastify', 'app', 'dev-pki', 'health', 'spiffe'].map((e) => join(e, 'index.ts'))].map((f) => join(SRC, f))) {
      expect(readFileSync(file, 'utf8')).not.toMatch(/export \* from/);
    }
  });
});
