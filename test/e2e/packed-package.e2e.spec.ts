import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONSUMER_NEST_VERSION,
  consumerTsconfig,
  MODULE_FORMATS,
  mustRunIn,
  runIn,
  startConsumerApp,
  writeConsumerApp,
  type StartedApp,
  type Starter,
} from '../support/consumer-app';
import { httpsGet } from '../support/tls-probe';
import { packNestMtls } from '../../scripts/pack';

/**
 * nest-mtls as a stranger gets it: `npm run pack`'s tarball installed into a
 * fresh Nest app outside the repository, next to its own Nest 12 patch,
 * compiled against the package's public types (skipLibCheck false), as an ES-module app
 * and as a CommonJS app, started and driven over mTLS.
 *
 * Ways to start the app. Each is an entry file of test/fixtures/consumer-app/src
 * that prints `listening on PORT`: NestFactory as Nest's docs start an app, and
 * @nestjs/testing as Nest's docs write e2e tests (@nestjs/testing has its own
 * version line: 12.1.x goes with core 12.5).
 */
const STARTERS: Starter[] = [
  { name: 'NestFactory.create(AppModule, new MtlsExpressAdapter())', entry: 'main.js' },
  {
    name: 'Test.createTestingModule({ imports: [AppModule] }) then createNestApplication(new MtlsExpressAdapter())',
    entry: 'main-testing.js',
    devDependencies: { '@nestjs/testing': '12.1.1' },
  },
];

/** The Fastify app: NestFactory with MtlsFastifyAdapter from nest-mtls/fastify. */
const FASTIFY_STARTERS: Starter[] = [{ name: 'NestFactory.create(AppModule, new MtlsFastifyAdapter())', entry: 'main-fastify.js' }];

/** The consumer app over mTLS: the allowed client gets 200 with its subject, the blocked one the article's 403, no certificate is refused in the handshake. */
async function expectAllowedBlockedRefused(port: number, pki: string): Promise<void> {
  const ca = readFileSync(join(pki, 'truststore.pem'));
  const as = (name: string) => ({ ca, cert: readFileSync(join(pki, `${name}.chain.pem`)), key: readFileSync(join(pki, `${name}.key`)) });
  expect(await httpsGet(port, '/hello', as('allowed-client'))).toMatchObject({ status: 200, json: { caller: 'CN=allowed-client,O=nest-mtls' } });
  expect(await httpsGet(port, '/hello', as('blocked-client'))).toMatchObject({ status: 403, json: { statusCode: 403, message: 'Certificate subject is not recognized!' } });
  const refusal = await httpsGet(port, '/hello', { ca }).then(
    (answer) => `answered ${answer.status}`,
    (err: NodeJS.ErrnoException) => err.code,
  );
  expect(refusal).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
}

const REPO_NEST_VERSION: string = JSON.parse(readFileSync(join(__dirname, '..', '..', 'node_modules', '@nestjs', 'core', 'package.json'), 'utf8')).version;
const PACKAGE_VERSION: string = JSON.parse(readFileSync(join(__dirname, '..', '..', 'libs', 'mtls', 'package.json'), 'utf8')).version;

describe('the packed nest-mtls in a stranger\'s app', () => {
  const work = mkdtempSync(join(tmpdir(), 'nest-mtls-stranger-'));
  let tarball: string;

  beforeAll(() => {
    tarball = packNestMtls({ into: work, build: 'if-needed', stdio: 'pipe' });
  }, 120000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('is a tarball of the built package, nothing else', async () => {
    expect(tarball).toBe(join(work, `nest-mtls-${PACKAGE_VERSION}.tgz`));
    const files = (await mustRunIn(work, 'tar', ['tzf', tarball])).stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/mtls.js', 'dist/index.js', 'dist/index.d.ts', 'dist/index.mjs', 'dist/testing/index.mjs', 'dist/microservices/index.js', 'dist/microservices/index.mjs', 'dist/microservices/index.d.ts', 'dist/cli/main.js', 'dist/spiffe/index.mjs', 'proto/spiffe/workload/workload.proto']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => !/^(dist|bin)\/|^proto\/spiffe\/workload\/workload\.proto$|^(package\.json|README\.md|LICENSE|CHANGELOG\.md)$/.test(f))).toEqual([]);
    expect(files.filter((f) => /\.ts$/.test(f) && !/\.d\.m?ts$/.test(f))).toEqual([]);
  });

  describe.each(MODULE_FORMATS)('as $name ($type)', (format) => {
    const dir = join(work, format.name);
    const pki = join(dir, 'pki');

    beforeAll(async () => {
      writeConsumerApp(dir, format, tarball, STARTERS);
      await mustRunIn(dir, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']);
    }, 150000);

    it(`installs next to its own Nest ${CONSUMER_NEST_VERSION}: one copy of @nestjs/*, none inside nest-mtls`, () => {
      expect(CONSUMER_NEST_VERSION).not.toBe(REPO_NEST_VERSION);
      for (const p of ['core', 'common', 'platform-express']) {
        expect(JSON.parse(readFileSync(join(dir, 'node_modules', '@nestjs', p, 'package.json'), 'utf8')).version).toBe(CONSUMER_NEST_VERSION);
      }
      expect(existsSync(join(dir, 'node_modules', 'nest-mtls', 'node_modules', '@nestjs'))).toBe(false);
    });

    it('compiles against the public types with skipLibCheck false (nest-mtls and nest-mtls/testing)', async () => {
      const r = await runIn(dir, 'npx', ['tsc', '-p', '.']);
      expect(`${r.stdout}${r.stderr}`).toBe('');
      expect(r.code).toBe(0);
    }, 60000);

    it('npx mtls --version, and npx mtls pki init makes the certificates the app uses', async () => {
      expect((await mustRunIn(dir, 'npx', ['mtls', '--version'])).stdout).toBe(`nest-mtls ${PACKAGE_VERSION}\n`);
      const init = await mustRunIn(dir, 'npx', ['mtls', 'pki', 'init', 'pki', '--service', 'server', '--service', 'allowed-client']);
      expect(init.stdout).toContain(`Created a dev PKI in ${pki}`);
      // One more client, through the nest-mtls/testing entry point, compiled above.
      expect((await mustRunIn(dir, 'node', [join('dist', 'issue-cert.js'), 'pki', 'blocked-client'])).stdout.trim()).toBe(join(pki, 'blocked-client.crt'));
      const inspect = await mustRunIn(dir, 'npx', ['mtls', 'inspect', join('pki', 'blocked-client.crt')]);
      expect(inspect.stdout.split('\n')[0]).toBe('subject: CN=blocked-client,O=stranger');
    }, 60000);

    it('npx mtls migrate dropwizard reads YAML with the dependencies the package declares', async () => {
      writeFileSync(join(dir, 'config.yml'), 'server:\n  applicationConnectors:\n    - type: https\n      keyStorePath: k.p12\n      trustStorePath: t.pem\n      needClientAuth: true\n');
      const migrated = await mustRunIn(dir, 'npx', ['mtls', 'migrate', 'dropwizard', 'config.yml']);
      expect(migrated.stdout).toContain('\nPORT=8443\nMTLS_KEY_STORE_PATH=k.p12\nMTLS_TRUST_STORE_PATH=t.pem\nMTLS_NEED_CLIENT_AUTH=true\n');
    }, 60000);

    it.each(STARTERS)('started with $name: allowed subject 200, blocked subject 403, no client certificate refused in the handshake', async (starter) => {
      const app: StartedApp = await startConsumerApp(dir, starter.entry, { PKI_DIR: pki });
      try {
        await expectAllowedBlockedRefused(app.port, pki);
      } finally {
        await app.stop();
      }
    }, 60000);

    if (format.name === 'esm') {
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
        const r = await mustRunIn(dir, 'node', ['--input-type=module', '-e', script]);
        const seen = JSON.parse(r.stdout) as { count: number; missing: string[]; pki: boolean };
        expect(seen.missing).toEqual([]);
        expect(seen.count).toBeGreaterThan(20);
        expect(seen.pki).toBe(false); // the dev PKI is only in nest-mtls/testing
      });
    } else {
      it('an older tsconfig (module commonjs, moduleResolution node10) finds the types too, nest-mtls/testing included', async () => {
        const config = consumerTsconfig({ module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0', resolvePackageJsonExports: false, noEmit: true });
        writeFileSync(join(dir, 'tsconfig.node10.json'), JSON.stringify(config));
        const tsc = await runIn(dir, 'npx', ['tsc', '-p', 'tsconfig.node10.json']);
        expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
        expect(tsc.code).toBe(0);
      }, 60000);
    }
  });

  /**
   * A Fastify app that does not install @nestjs/platform-express (nor does
   * installing nest-mtls pull it in: it is an optional peer): the main entry
   * loads and type-checks without it, and MtlsFastifyAdapter serves mTLS.
   */
  describe('on Fastify, without @nestjs/platform-express (esm)', () => {
    const format = MODULE_FORMATS.find((f) => f.name === 'esm')!;
    const dir = join(work, 'fastify-esm');
    const pki = join(dir, 'pki');

    beforeAll(async () => {
      writeConsumerApp(dir, format, tarball, FASTIFY_STARTERS, 'fastify');
      await mustRunIn(dir, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']);
      await mustRunIn(dir, 'npx', ['mtls', 'pki', 'init', 'pki', '--service', 'server', '--service', 'allowed-client']);
      await mustRunIn(dir, 'npx', ['mtls', 'pki', 'issue', '--subject', 'CN=blocked-client,O=stranger', '--name', 'blocked-client', 'pki']);
    }, 150000);

    it('has @nestjs/platform-fastify and no @nestjs/platform-express', () => {
      expect(JSON.parse(readFileSync(join(dir, 'node_modules', '@nestjs', 'platform-fastify', 'package.json'), 'utf8')).version).toBe(CONSUMER_NEST_VERSION);
      expect(existsSync(join(dir, 'node_modules', '@nestjs', 'platform-express'))).toBe(false);
      expect(existsSync(join(dir, 'node_modules', 'express'))).toBe(false);
    });

    it('compiles against the public types with skipLibCheck false (nest-mtls and nest-mtls/fastify)', async () => {
      const r = await runIn(dir, 'npx', ['tsc', '-p', '.']);
      expect(`${r.stdout}${r.stderr}`).toBe('');
      expect(r.code).toBe(0);
    }, 60000);

    it('loads nest-mtls (import and require) without @nestjs/platform-express; MtlsExpressAdapter says what to install', async () => {
      const script = [
        "import * as mtls from 'nest-mtls';",
        "import { createRequire } from 'node:module';",
        "const cjs = createRequire(process.cwd() + '/package.json')('nest-mtls');",
        "let refusal = '';",
        'try { new mtls.MtlsExpressAdapter(); } catch (err) { refusal = err.message; }',
        "console.log(JSON.stringify({ module: typeof mtls.MtlsModule, same: cjs.MtlsModule === mtls.MtlsModule, refusal }));",
      ].join('\n');
      const seen = JSON.parse((await mustRunIn(dir, 'node', ['--input-type=module', '-e', script])).stdout) as { module: string; same: boolean; refusal: string };
      expect(seen).toEqual({
        module: 'function',
        same: true,
        refusal: 'MtlsExpressAdapter: needs @nestjs/platform-express, which is not installed: npm i @nestjs/platform-express (or serve with MtlsFastifyAdapter)',
      });
    });

    it.each(FASTIFY_STARTERS)('started with $name: allowed subject 200, blocked subject 403, no client certificate refused in the handshake', async (starter) => {
      const app: StartedApp = await startConsumerApp(dir, starter.entry, { PKI_DIR: pki });
      try {
        await expectAllowedBlockedRefused(app.port, pki);
      } finally {
        await app.stop();
      }
    }, 60000);
  });
});
