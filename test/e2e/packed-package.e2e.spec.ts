import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CJS,
  compareVersions,
  consumerTsconfig,
  ESM,
  mustRunIn,
  nestVersions,
  newestVersion,
  npmInstall,
  runIn,
  startConsumerApp,
  writeConsumerApp,
  type ConsumerSpec,
  type NestVersions,
  type StartedApp,
  type Starter,
} from '../support/consumer-app';
import { forFastify, readmeBlocks, shellCommands, type ReadmeBlock } from '../support/readme-blocks';
import { httpsGet } from '../support/tls-probe';
import { packNestMtls } from '../../scripts/pack';

/**
 * nest-mtls as a stranger gets it: `npm run pack`'s tarball installed into
 * fresh Nest apps outside the repository, compiled against the package's
 * public types (skipLibCheck false), started and driven over mTLS; the app is
 * the one the package README shows, and its Testing section's steps run as
 * they are written (install, Jest config, test files, `npx jest`).
 *
 * Nest is resolved from the registry when the test runs: the newest published
 * 12.x of each package, and the oldest that nest-mtls' peer ranges admit.
 * TypeScript: the newest 6.x, and the newest 7.x installed as the README's
 * TypeScript 7 section says (beside TypeScript 6, for ts-jest).
 * Apps are written and installed in parallel, from npm's cache where it can.
 */

const ROOT = join(__dirname, '..', '..');
const PACKAGE_README = join(ROOT, 'libs', 'mtls', 'README.md');
const PACKAGE_JSON = JSON.parse(readFileSync(join(ROOT, 'libs', 'mtls', 'package.json'), 'utf8')) as { version: string; peerDependencies: Record<string, string> };
const PACKAGE_VERSION = PACKAGE_JSON.version;
const REPO_NEST_VERSION: string = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@nestjs', 'core', 'package.json'), 'utf8')).version;

/** The package README's app: the files of its Use section (src/app.module.ts, src/main.ts). */
const USE = readmeBlocks(PACKAGE_README, '## Use');
/** Its Testing section: install, Jest config, two test files, `npx jest`. */
const TESTING = readmeBlocks(PACKAGE_README, '## Testing');
/** Its TypeScript 7 section: the install command. */
const TYPESCRIPT_7 = readmeBlocks(PACKAGE_README, '### TypeScript 7');

function filesOf(blocks: ReadmeBlock[], transform: (code: string) => string = (c) => c): Record<string, string> {
  return Object.fromEntries(blocks.filter((b) => b.file).map((b) => [b.file!, transform(b.code)]));
}

const TESTING_COMMANDS = shellCommands(TESTING);
/** The Testing section's install commands (all but the last, `npx jest`). */
const TESTING_INSTALL = TESTING_COMMANDS.slice(0, -1);
/** How many tests the README's two test files hold (3 over mTLS, 3 without TLS). */
const README_TESTS = 6;

const STARTERS: Starter[] = [
  { name: 'NestFactory.create(AppModule, new MtlsExpressAdapter())', entry: 'main-factory.js' },
  { name: 'Test.createTestingModule({ imports: [AppModule] }) then createNestApplication(new MtlsExpressAdapter())', entry: 'main-testing.js' },
];
const FASTIFY_STARTERS: Starter[] = [{ name: 'NestFactory.create(AppModule, new MtlsFastifyAdapter())', entry: 'main-fastify.js' }];

/** The README's AppModule reads the MTLS_* variables: user-service's keystore and the PKI's trust store and CRLs. */
function mtlsEnv(pki: string): Record<string, string> {
  return {
    MTLS_KEY_STORE_PATH: join(pki, 'user-service.p12'),
    MTLS_KEY_STORE_PASSWORD: 'changeit',
    MTLS_TRUST_STORE_PATH: join(pki, 'truststore.pem'),
    MTLS_CRL_PATH: join(pki, 'crl.pem'),
  };
}

/** The README's app over mTLS: home-page-service gets 200 with its subject, event-service the article's 403, no certificate is refused in the handshake. */
async function expectAllowedBlockedRefused(port: number, pki: string): Promise<void> {
  const ca = readFileSync(join(pki, 'truststore.pem'));
  const as = (name: string) => ({ ca, cert: readFileSync(join(pki, `${name}.chain.pem`)), key: readFileSync(join(pki, `${name}.key`)) });
  expect(await httpsGet(port, '/users', as('home-page-service'))).toMatchObject({ status: 200, json: { caller: 'CN=home-page-service,O=nest-mtls', users: [] } });
  expect(await httpsGet(port, '/users', as('event-service'))).toMatchObject({ status: 403, json: { statusCode: 403, message: 'Certificate subject is not recognized!' } });
  const refusal = await httpsGet(port, '/users', { ca }).then(
    (answer) => `answered ${answer.status}`,
    (err: NodeJS.ErrnoException) => err.code,
  );
  expect(refusal).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
}

/** One consumer app of this test: what it is, and what is done to it before its tests. */
interface App {
  spec: ConsumerSpec;
  dir: string;
  /** The development PKI its tests use: the one `npx mtls pki init` made in the first app (one PKI serves them all). */
  pki: string;
  /** Makes the PKI (`npx mtls pki init pki`) in its own directory. */
  initsPki?: boolean;
  /** Installs TypeScript as the README's TypeScript 7 section says. */
  typescript7?: boolean;
  /** Runs the README's Testing steps (its installs now, `npx jest` in a test). */
  readmeTests?: boolean;
  /** What `npx mtls pki init pki` printed. */
  pkiInit?: string;
  /** Files of its own besides the README's. */
  files?: Record<string, string>;
}

/**
 * Every entry point of the package but the main one, and the optional peers
 * each needs (the CommonJS app installs @nestjs/terminus; none installs
 * @nestjs/microservices or prom-client, whose entries the repository's tests
 * load without the peer: test/unit/public-api.spec.ts).
 */
const ENTRY_POINTS = ['nest-mtls/app', 'nest-mtls/dev-pki', 'nest-mtls/testing', 'nest-mtls/health'] as const;
const NEEDS_TERMINUS = 'nest-mtls/health';
/** The version of @nestjs/terminus the repository tests with. */
const TERMINUS_VERSION: string = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@nestjs', 'terminus', 'package.json'), 'utf8')).version;

/**
 * A file of the stranger's app that uses one export of each entry point (values and types), so
 * `tsc` reads every entry's declarations with skipLibCheck false.
 */
function entriesFile(withHealth: boolean): string {
  return [
    "import { exitOnStartupError, portSetting, type ShutdownReport } from 'nest-mtls/app';",
    "import { initPki, type PkiLayout } from 'nest-mtls/dev-pki';",
    "import { clientCertGuardFor, createRootCa, type IssuedCertificate } from 'nest-mtls/testing';",
    ...(withHealth ? ["import { MtlsHealthIndicator, type MtlsHealthIndicatorOptions } from 'nest-mtls/health';"] : []),
    "import { InjectMtlsOptions, bindMtlsServer, type MtlsOptionsView, type MtlsServerBinding } from 'nest-mtls';",
    'export const used = [exitOnStartupError, portSetting, initPki, clientCertGuardFor, createRootCa, InjectMtlsOptions, bindMtlsServer' + (withHealth ? ', MtlsHealthIndicator];' : '];'),
    'export type Used = [ShutdownReport, PkiLayout, IssuedCertificate, MtlsOptionsView, MtlsServerBinding' + (withHealth ? ', MtlsHealthIndicatorOptions];' : '];'),
    '',
  ].join('\n');
}

/**
 * Loads every entry point with import and with require in `dir` (the app's
 * own node_modules): the ESM names are the CommonJS exports, as the same
 * objects. An entry whose optional peer is missing fails naming it.
 */
async function loadEntries(dir: string): Promise<Record<string, { count?: number; missing?: string[]; error?: string }>> {
  const script = [
    "import { createRequire } from 'node:module';",
    "const require = createRequire(process.cwd() + '/package.json');",
    `const entries = ${JSON.stringify(ENTRY_POINTS)};`,
    'const seen = {};',
    'for (const entry of entries) {',
    '  try {',
    // require first: an entry whose peer is missing stops here. Node 20 reports a CommonJS module that throws under
    // import() twice, as the rejection and again as an uncaught error at exit, even when the rejection is caught.
    '    const cjs = require(entry);',
    '    const esm = await import(entry);',
    "    const names = Object.keys(cjs).filter((k) => k !== '__esModule');",
    '    seen[entry] = { count: names.length, missing: names.filter((k) => esm[k] !== cjs[k]) };',
    '  } catch (err) {',
    "    seen[entry] = { error: String(err.message).split('\\n')[0] };",
    '  }',
    '}',
    'console.log(JSON.stringify(seen));',
  ].join('\n');
  return JSON.parse((await mustRunIn(dir, 'node', ['--input-type=module', '-e', script])).stdout);
}

/** The Nest packages every app has; each also has its platforms'. */
const CORE_PACKAGES = ['core', 'common'] as const;

describe("the packed nest-mtls in a stranger's app", () => {
  const work = mkdtempSync(join(tmpdir(), 'nest-mtls-stranger-'));
  let tarball: string;
  const versions: { newest?: NestVersions; oldest?: NestVersions; typescript6?: string; typescript7?: string } = {};
  const apps: Record<'expressEsm' | 'expressCjs' | 'fastifyEsm' | 'oldest' | 'typescript7', App> = {} as never;

  /** Writes, installs (and, as the README says, adds Jest and TypeScript 7 to) one app, and makes the PKI if it is the one that does. */
  async function prepare(app: App): Promise<void> {
    const fastifyOnly = !app.spec.platforms.includes('express');
    // A Fastify app has its own main (the fixture's main-fastify.ts); the README's test files go through their `// Fastify:` lines.
    const use = filesOf(USE);
    if (fastifyOnly) delete use['src/main.ts'];
    const files = { ...use, ...(app.readmeTests ? filesOf(TESTING, fastifyOnly ? forFastify : undefined) : {}), ...app.files };
    writeConsumerApp(app.dir, app.spec, tarball, files);
    await npmInstall(app.dir);
    if (app.typescript7) for (const command of shellCommands(TYPESCRIPT_7)) await mustRunIn(app.dir, 'sh', ['-c', command], 240000);
    // The README's command as written; npm takes what its cache has (as `npmInstall` does) instead of asking the registry
    // again (not for TypeScript 7 above: its range must resolve to the newest 7.x, which a cached list could miss).
    const cached = { npm_config_prefer_offline: 'true' };
    if (app.readmeTests) for (const command of TESTING_INSTALL) await mustRunIn(app.dir, 'sh', ['-c', command], 240000, cached);
    if (app.initsPki) app.pkiInit = (await mustRunIn(app.dir, 'npx', ['mtls', 'pki', 'init', 'pki'])).stdout;
  }

  beforeAll(async () => {
    tarball = packNestMtls({ into: work, build: 'if-needed', stdio: 'pipe' });
    const [newest, oldest, typescript6, typescriptNewest, typesNode24, typesNode22] = await Promise.all([
      nestVersions('newest', PACKAGE_JSON.peerDependencies, work),
      nestVersions('oldest', PACKAGE_JSON.peerDependencies, work),
      newestVersion('typescript', '^6', work),
      newestVersion('typescript', '^7', work),
      newestVersion('@types/node', '^24', work),
      newestVersion('@types/node', '^22', work),
    ]);
    Object.assign(versions, { newest, oldest, typescript6, typescript7: typescriptNewest });
    console.log(`Nest newest ${JSON.stringify(newest)}\nNest oldest ${JSON.stringify(oldest)}\nTypeScript ${typescript6} and ${typescriptNewest}`);
    const ts6 = { typescript: typescript6, '@types/node': typesNode24 };
    const pki = join(work, 'newest-express-esm', 'pki');
    const app = (name: string, spec: Omit<ConsumerSpec, 'name'>, extra: Partial<App> = {}): App => ({ spec: { name, ...spec }, dir: join(work, name), pki, ...extra });
    apps.expressEsm = app('newest-express-esm', { format: ESM, platforms: ['express'], nest: newest, devDependencies: ts6 }, { initsPki: true, readmeTests: true, files: { 'src/entries.ts': entriesFile(false) } });
    apps.expressCjs = app(
      'newest-express-cjs',
      { format: CJS, platforms: ['express'], nest: newest, devDependencies: { ...ts6, '@nestjs/terminus': TERMINUS_VERSION } },
      { files: { 'src/entries.ts': entriesFile(true) } },
    );
    apps.fastifyEsm = app('newest-fastify-esm', { format: ESM, platforms: ['fastify'], nest: newest, devDependencies: ts6 }, { readmeTests: true });
    apps.oldest = app('oldest-cjs', { format: CJS, platforms: ['express', 'fastify'], nest: oldest, devDependencies: { typescript: typescript6, '@types/node': typesNode22 } });
    apps.typescript7 = app('newest-express-esm-typescript-7', { format: ESM, platforms: ['express'], nest: newest, devDependencies: { '@types/node': typesNode24 } }, { typescript7: true, readmeTests: true });
    await Promise.all(Object.values(apps).map(prepare));
  }, 600000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('is a tarball of the built package, nothing else', async () => {
    expect(tarball).toBe(join(work, `nest-mtls-${PACKAGE_VERSION}.tgz`));
    const files = (await mustRunIn(work, 'tar', ['tzf', tarball])).stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    const entries = ['testing', 'microservices', 'grpc', 'admin', 'fastify', 'app', 'dev-pki', 'health', 'spiffe'].flatMap((e) => ['js', 'mjs', 'd.ts', 'd.mts'].map((x) => `dist/${e}/index.${x}`));
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/mtls.js', 'jest-preset.js', 'jest-transformer.js', 'dist/index.js', 'dist/index.d.ts', 'dist/index.mjs', ...entries, 'dist/cli/main.js', 'proto/spiffe/workload/workload.proto']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => !/^(dist|bin)\/|^proto\/spiffe\/workload\/workload\.proto$|^(package\.json|README\.md|LICENSE|CHANGELOG\.md|jest-preset\.js|jest-transformer\.js)$/.test(f))).toEqual([]);
    expect(files.filter((f) => /\.ts$/.test(f) && !/\.d\.m?ts$/.test(f))).toEqual([]);
  });

  it("the README's steps are there to run: an app module, a Jest config, two test files, an install and `npx jest`", () => {
    expect(Object.keys(filesOf(USE)).sort()).toEqual(['src/app.module.ts', 'src/main.ts']);
    expect(Object.keys(filesOf(TESTING)).sort()).toEqual(['jest.config.cjs', 'test/users.controller.spec.ts', 'test/users.e2e.spec.ts']);
    expect(TESTING_COMMANDS.at(-1)).toBe('npx jest');
    expect(TESTING_INSTALL).toEqual(['npm i -D jest ts-jest @types/jest @nestjs/testing']);
    expect(shellCommands(TYPESCRIPT_7)).toHaveLength(1);
  });

  /** The installed Nest of `app` is `expected`, one copy of it, none inside nest-mtls. */
  function expectNest(app: App, expected: NestVersions): void {
    for (const p of [...CORE_PACKAGES, ...app.spec.platforms.map((pl) => `platform-${pl}` as const)]) {
      expect(`${p} ${JSON.parse(readFileSync(join(app.dir, 'node_modules', '@nestjs', p, 'package.json'), 'utf8')).version}`).toBe(`${p} ${expected[p]}`);
    }
    expect(existsSync(join(app.dir, 'node_modules', 'nest-mtls', 'node_modules', '@nestjs'))).toBe(false);
  }

  async function expectCompiles(app: App, tsconfig = 'tsconfig.json'): Promise<void> {
    const r = await runIn(app.dir, 'npx', ['tsc', '-p', tsconfig]);
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.code).toBe(0);
  }

  async function expectServes(app: App, starter: Starter): Promise<void> {
    const started: StartedApp = await startConsumerApp(app.dir, starter.entry, mtlsEnv(app.pki));
    try {
      await expectAllowedBlockedRefused(started.port, app.pki);
    } finally {
      await started.stop();
    }
  }

  /**
   * The README's Testing steps, after its install (done in prepare): its test files
   * type-check against the declarations and `npx jest` passes every test in them.
   */
  async function expectReadmeTestsPass(app: App): Promise<void> {
    // skipLibCheck here only: the app's own compile (tsconfig.json) already checked the declarations of nest-mtls and Nest
    // in this node_modules with skipLibCheck false; this one checks the README's test files against them.
    writeFileSync(join(app.dir, 'tsconfig.tests.json'), JSON.stringify({ ...consumerTsconfig({ rootDir: '.', noEmit: true, skipLibCheck: true, types: ['node', 'jest'] }), include: ['src', 'test'] }));
    await expectCompiles(app, 'tsconfig.tests.json');
    const jest = await runIn(app.dir, 'sh', ['-c', TESTING_COMMANDS.at(-1)!], 240000);
    const summary = /^Tests:.*$/m.exec(jest.stderr)?.[0];
    const expected = `Tests:       ${README_TESTS} passed, ${README_TESTS} total`;
    if (jest.code !== 0 || summary !== expected) throw new Error(`npx jest in ${app.spec.name}: exit ${jest.code}, "${summary}" (expected "${expected}"):\n${`${jest.stdout}${jest.stderr}`.slice(-8000)}`);
    expect(jest.stderr).toMatch(/PASS test\/users\.e2e\.spec\.ts/);
    expect(jest.stderr).toMatch(/PASS test\/users\.controller\.spec\.ts/);
  }

  describe('newest Nest 12, Express, ES-module app', () => {
    const app = () => apps.expressEsm;

    it('installs the newest Nest 12 (as published now, not older than the repository\'s), one copy, none inside nest-mtls', () => {
      expectNest(app(), versions.newest!);
      expect(compareVersions(versions.newest!.core, REPO_NEST_VERSION)).toBeGreaterThanOrEqual(0);
    });

    it("compiles the README's app against the public types with skipLibCheck false (nest-mtls, nest-mtls/dev-pki, /testing, /app)", () => expectCompiles(app()), 60000);

    it('npx mtls --version; npx mtls pki init made the PKI; nest-mtls/dev-pki issues one more certificate; npx mtls inspect reads it', async () => {
      expect((await mustRunIn(app().dir, 'npx', ['mtls', '--version'])).stdout).toBe(`nest-mtls ${PACKAGE_VERSION}\n`);
      expect(app().pkiInit).toContain(`Created a dev PKI in ${app().pki}`);
      expect((await mustRunIn(app().dir, 'node', [join('dist', 'issue-cert.js'), 'pki', 'stranger-client'])).stdout.trim()).toBe(join(app().pki, 'stranger-client.crt'));
      const inspect = await mustRunIn(app().dir, 'npx', ['mtls', 'inspect', join('pki', 'stranger-client.crt')]);
      expect(inspect.stdout.split('\n')[0]).toBe('subject: CN=stranger-client,O=stranger');
    }, 60000);

    it('npx mtls migrate dropwizard reads YAML with the dependencies the package declares', async () => {
      writeFileSync(join(app().dir, 'config.yml'), 'server:\n  applicationConnectors:\n    - type: https\n      keyStorePath: k.p12\n      trustStorePath: t.pem\n      needClientAuth: true\n');
      const migrated = await mustRunIn(app().dir, 'npx', ['mtls', 'migrate', 'dropwizard', 'config.yml']);
      expect(migrated.stdout).toContain('\nPORT=8443\nMTLS_KEY_STORE_PATH=k.p12\nMTLS_TRUST_STORE_PATH=t.pem\nMTLS_NEED_CLIENT_AUTH=true\n');
    }, 60000);

    it.each(STARTERS)('started with $name: home-page-service 200, event-service 403, no client certificate refused in the handshake', (starter) => expectServes(app(), starter), 60000);

    it('named imports see every export of the CommonJS build, as the same objects', async () => {
      const script = [
        "import * as esm from 'nest-mtls';",
        "import * as testing from 'nest-mtls/testing';",
        "import { createRequire } from 'node:module';",
        "const require = createRequire(process.cwd() + '/package.json');",
        "const cjs = require('nest-mtls'), cjsTesting = require('nest-mtls/testing');",
        "const missing = [...Object.keys(cjs).filter((k) => k !== '__esModule' && esm[k] !== cjs[k]), ...Object.keys(cjsTesting).filter((k) => k !== '__esModule' && testing[k] !== cjsTesting[k])];",
        "console.log(JSON.stringify({ count: Object.keys(esm).length, missing, pki: 'initPki' in esm }));",
      ].join('\n');
      const r = await mustRunIn(app().dir, 'node', ['--input-type=module', '-e', script]);
      const seen = JSON.parse(r.stdout) as { count: number; missing: string[]; pki: boolean };
      expect(seen.missing).toEqual([]);
      expect(seen.count).toBeGreaterThan(20);
      expect(seen.pki).toBe(false); // the dev PKI is only in nest-mtls/dev-pki
    });

    it('loads nest-mtls/app, /dev-pki and /testing with import and require, as the same objects; /health says it needs @nestjs/terminus (not installed here)', async () => {
      const seen = await loadEntries(app().dir);
      for (const entry of ENTRY_POINTS.filter((e) => e !== NEEDS_TERMINUS)) expect({ entry, ...seen[entry], count: seen[entry].count! > 0 }).toEqual({ entry, count: true, missing: [] });
      expect(seen[NEEDS_TERMINUS].error).toMatch(/Cannot find (module|package) '@nestjs\/terminus'/);
    });

    it("runs the README's Testing steps: preset 'nest-mtls', over mTLS (200, 403, no certificate refused) and without TLS (clientCertGuardFor)", () => expectReadmeTestsPass(app()), 300000);
  });

  describe('newest Nest 12, Express, CommonJS app', () => {
    const app = () => apps.expressCjs;

    it('installs the newest Nest 12, one copy, none inside nest-mtls', () => expectNest(app(), versions.newest!));

    it("compiles the README's app against the public types with skipLibCheck false (every entry point but /admin, /microservices, /fastify)", () => expectCompiles(app()), 60000);

    it('loads nest-mtls/app, /dev-pki, /testing and /health (with @nestjs/terminus installed) with import and require, as the same objects', async () => {
      const seen = await loadEntries(app().dir);
      for (const entry of ENTRY_POINTS) expect({ entry, ...seen[entry], count: seen[entry].count! > 0 }).toEqual({ entry, count: true, missing: [] });
    });

    it('an older tsconfig (module commonjs, moduleResolution node10) finds the types too, every entry point of src/entries.ts included', async () => {
      const config = consumerTsconfig({ module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0', resolvePackageJsonExports: false, noEmit: true });
      writeFileSync(join(app().dir, 'tsconfig.node10.json'), JSON.stringify(config));
      await expectCompiles(app(), 'tsconfig.node10.json');
    }, 60000);

    it.each(STARTERS)('started with $name: home-page-service 200, event-service 403, no client certificate refused in the handshake', (starter) => expectServes(app(), starter), 60000);
  });

  /**
   * A Fastify app that does not install @nestjs/platform-express (nor does
   * installing nest-mtls pull it in: it is an optional peer): the main entry
   * loads and type-checks without it, and MtlsFastifyAdapter serves mTLS.
   */
  describe('newest Nest 12, Fastify without @nestjs/platform-express, ES-module app', () => {
    const app = () => apps.fastifyEsm;

    it('has the newest @nestjs/platform-fastify and no @nestjs/platform-express', () => {
      expectNest(app(), versions.newest!);
      expect(existsSync(join(app().dir, 'node_modules', '@nestjs', 'platform-express'))).toBe(false);
      expect(existsSync(join(app().dir, 'node_modules', 'express'))).toBe(false);
    });

    it('compiles against the public types with skipLibCheck false (nest-mtls and nest-mtls/fastify)', () => expectCompiles(app()), 60000);

    it('loads nest-mtls (import and require) without @nestjs/platform-express; MtlsExpressAdapter says what to install', async () => {
      const script = [
        "import * as mtls from 'nest-mtls';",
        "import { createRequire } from 'node:module';",
        "const cjs = createRequire(process.cwd() + '/package.json')('nest-mtls');",
        "let refusal = '';",
        'try { new mtls.MtlsExpressAdapter(); } catch (err) { refusal = err.message; }',
        "console.log(JSON.stringify({ module: typeof mtls.MtlsModule, same: cjs.MtlsModule === mtls.MtlsModule, refusal }));",
      ].join('\n');
      const seen = JSON.parse((await mustRunIn(app().dir, 'node', ['--input-type=module', '-e', script])).stdout) as { module: string; same: boolean; refusal: string };
      expect(seen).toEqual({
        module: 'function',
        same: true,
        refusal: 'MtlsExpressAdapter: needs @nestjs/platform-express, which is not installed: npm i @nestjs/platform-express (or serve with MtlsFastifyAdapter)',
      });
    });

    it.each(FASTIFY_STARTERS)('started with $name: home-page-service 200, event-service 403, no client certificate refused in the handshake', (starter) => expectServes(app(), starter), 60000);

    it("runs the README's Testing steps on Fastify (its `// Fastify:` lines): preset 'nest-mtls' loads Fastify's nested ES modules", () => expectReadmeTestsPass(app()), 300000);
  });

  describe('oldest Nest 12 that the peer ranges admit, Express and Fastify, CommonJS app', () => {
    const app = () => apps.oldest;

    it('installs, per package, the oldest version of its peer range', () => {
      expectNest(app(), versions.oldest!);
      expect(compareVersions(versions.oldest!.core, versions.newest!.core)).toBeLessThan(0);
    });

    it("compiles the README's app against the public types with skipLibCheck false (both adapters)", () => expectCompiles(app()), 60000);

    it.each([...STARTERS, ...FASTIFY_STARTERS])('started with $name: home-page-service 200, event-service 403, no client certificate refused in the handshake', (starter) => expectServes(app(), starter), 60000);
  });

  /** TypeScript 7 (no compiler API) for builds, TypeScript 6 beside it for ts-jest, as the README's TypeScript 7 section installs them. */
  describe('newest Nest 12 with TypeScript 7, Express, ES-module app', () => {
    const app = () => apps.typescript7;

    it('npx tsc is the newest TypeScript 7; `typescript` is TypeScript 6 (its API, for ts-jest)', async () => {
      expect((await mustRunIn(app().dir, 'npx', ['tsc', '--version'])).stdout.trim()).toBe(`Version ${versions.typescript7}`);
      expect(JSON.parse(readFileSync(join(app().dir, 'node_modules', 'typescript', 'package.json'), 'utf8')).version).toMatch(/^6\./);
    });

    it("TypeScript 7 compiles the README's app against the public types with skipLibCheck false", () => expectCompiles(app()), 60000);

    it('built by TypeScript 7 (decorators and their metadata), it serves: home-page-service 200, event-service 403, no certificate refused', () => expectServes(app(), STARTERS[0]), 60000);

    it("runs the README's Testing steps with Jest (ts-jest on TypeScript 6)", () => expectReadmeTestsPass(app()), 300000);
  });
});
