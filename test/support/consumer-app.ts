import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * A stranger's Nest app outside the repository: its own package.json (a Nest
 * 12 resolved from the registry when the test runs), its own tsconfig
 * (skipLibCheck false), the entry files of test/fixtures/consumer-app/src,
 * the files the package README shows, and the packed nest-mtls tarball.
 */

const FIXTURE = join(__dirname, '..', 'fixtures', 'consumer-app', 'src');
/** The entry files of FIXTURE that belong to one platform (each imports its adapter); the rest is shared. */
const ENTRIES: Record<HttpPlatform, string[]> = { express: ['main-factory.ts', 'main-testing.ts'], fastify: ['main-fastify.ts'] };

/** How the consumer's code is compiled and loaded. */
export interface ModuleFormat {
  name: 'esm' | 'cjs';
  /** package.json "type". */
  type: 'module' | 'commonjs';
}

/** The two ways a Nest app ships today; both use Nest 12's starter tsconfig (nodenext). */
export const ESM: ModuleFormat = { name: 'esm', type: 'module' };
export const CJS: ModuleFormat = { name: 'cjs', type: 'commonjs' };

/**
 * An HTTP platform the consumer installs: Express (the platform package and
 * @types/express) or Fastify (@nestjs/platform-fastify; an app with Fastify
 * only does NOT get @nestjs/platform-express, so the main entry of nest-mtls
 * must load without it).
 */
export type HttpPlatform = 'express' | 'fastify';

/** The Nest packages a consumer may install, each with its own version line. */
export const NEST_PACKAGES = ['common', 'core', 'platform-express', 'platform-fastify', 'testing'] as const;
export type NestPackage = (typeof NEST_PACKAGES)[number];
/** One version of each Nest package. */
export type NestVersions = Record<NestPackage, string>;

/**
 * One way to start the app: a compiled entry file of the fixture (`dist/NAME.js`)
 * that prints `listening on PORT`.
 */
export interface Starter {
  name: string;
  entry: string;
}

/** What one consumer app is made of. */
export interface ConsumerSpec {
  /** Its directory name, and its package name after `stranger-app-`. */
  name: string;
  format: ModuleFormat;
  platforms: HttpPlatform[];
  nest: NestVersions;
  /** Exact versions of the other dev dependencies the app starts with (typescript, @types/node); omit one to leave it out. */
  devDependencies: Record<string, string>;
}

/** The consumer's tsconfig: Nest 12's starter (`nest new`), but with skipLibCheck false and no emit extras. */
export function consumerTsconfig(overrides: Record<string, unknown> = {}): object {
  return {
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      resolvePackageJsonExports: true,
      esModuleInterop: true,
      isolatedModules: true,
      emitDecoratorMetadata: true,
      experimentalDecorators: true,
      allowSyntheticDefaultImports: true,
      target: 'ES2023',
      outDir: './dist',
      rootDir: './src',
      skipLibCheck: false,
      strict: true,
      strictPropertyInitialization: false,
      types: ['node'],
      ...overrides,
    },
    include: ['src'],
  };
}

/** The consumer's package.json: its Nest packages at the given versions, nest-mtls from the tarball. */
export function consumerPackageJson(spec: ConsumerSpec, tarball: string): object {
  const nest = (p: NestPackage) => ({ [`@nestjs/${p}`]: spec.nest[p] });
  return {
    name: `stranger-app-${spec.name}`,
    version: '1.0.0',
    private: true,
    type: spec.format.type,
    dependencies: Object.assign(
      { ...nest('common'), ...nest('core') },
      ...spec.platforms.map((p) => nest(`platform-${p}`)),
      { 'nest-mtls': `file:${tarball}`, 'reflect-metadata': '^0.2.2', rxjs: '^7.8.1' },
    ),
    devDependencies: {
      ...(spec.platforms.includes('express') ? { '@types/express': '^5.0.0', ...nest('testing') } : {}),
      ...spec.devDependencies,
    },
  };
}

/**
 * Writes the consumer project into `dir` (package.json, tsconfig.json, src/)
 * without installing it: the shared files of the fixture, the entry files of
 * its platforms, and `files` (path relative to the app: text).
 */
export function writeConsumerApp(dir: string, spec: ConsumerSpec, tarball: string, files: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(consumerPackageJson(spec, tarball), null, 2)}\n`);
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(consumerTsconfig(), null, 2)}\n`);
  const skipped = new Set((Object.keys(ENTRIES) as HttpPlatform[]).filter((p) => !spec.platforms.includes(p)).flatMap((p) => ENTRIES[p]));
  cpSync(FIXTURE, join(dir, 'src'), { recursive: true, filter: (file) => !skipped.has(basename(file)) });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/**
 * The environment for npm, npx, node and Jest in the consumer: this process's,
 * without what `npm test` and Jest exported for the repository.
 */
export function consumerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_|^INIT_CWD$|^JEST_WORKER_ID$/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in `cwd` (npm, npx, node, sh, ...) and resolves with its exit code and output. */
export function runIn(cwd: string, cmd: string, args: string[], timeoutMs = 120000, env: Record<string, string> = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: consumerEnv(env), timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like runIn, but a failure throws with the command's output (for set-up steps). */
export async function mustRunIn(cwd: string, cmd: string, args: string[], timeoutMs?: number, env?: Record<string, string>): Promise<CommandResult> {
  const r = await runIn(cwd, cmd, args, timeoutMs, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${cwd} exited with ${r.code}:\n${r.stdout}\n${r.stderr}`.slice(0, 8000));
  return r;
}

/** Installs what the app's package.json names, from npm's cache where it can. */
export function npmInstall(dir: string): Promise<CommandResult> {
  return mustRunIn(dir, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], 240000);
}

/** Compares two versions `MAJOR.MINOR.PATCH` (no pre-releases): negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** The published versions of `name` that `range` admits, oldest first (npm view, from the registry). */
export async function publishedVersions(name: string, range: string, cwd: string): Promise<string[]> {
  const out = (await mustRunIn(cwd, 'npm', ['view', `${name}@${range}`, 'version', '--json'], 60000)).stdout.trim();
  if (out === '') throw new Error(`no published version of ${name} matches ${range}`);
  const parsed = JSON.parse(out) as string | string[];
  return (Array.isArray(parsed) ? parsed : [parsed]).filter((v) => /^\d+\.\d+\.\d+$/.test(v)).sort(compareVersions);
}

/** The newest published version of `name` in `range`. */
export async function newestVersion(name: string, range: string, cwd: string): Promise<string> {
  return (await publishedVersions(name, range, cwd)).at(-1)!;
}

/**
 * Nest 12 as the consumer gets it: the newest published version of each
 * package, or the oldest one that nest-mtls' peer range admits (`peers`;
 * @nestjs/testing, not a peer, by @nestjs/core's range).
 */
export async function nestVersions(which: 'newest' | 'oldest', peers: Record<string, string>, cwd: string): Promise<NestVersions> {
  const entries = await Promise.all(
    NEST_PACKAGES.map(async (p) => {
      const versions = await publishedVersions(`@nestjs/${p}`, which === 'newest' ? '^12' : (peers[`@nestjs/${p}`] ?? peers['@nestjs/core']), cwd);
      return [p, which === 'newest' ? versions.at(-1)! : versions[0]] as const;
    }),
  );
  return Object.fromEntries(entries) as NestVersions;
}

/** A started consumer app: its port, its output so far, and a way to stop it. */
export interface StartedApp {
  port: number;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node dist/ENTRY` in `dir` with `env`; resolves once it prints `listening on PORT`. */
export function startConsumerApp(dir: string, entry: string, env: Record<string, string>, timeoutMs = 30000): Promise<StartedApp> {
  return new Promise((resolve, reject) => {
    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [join('dist', entry)], { cwd: dir, env: consumerEnv(env) });
    let out = '';
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not listen within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), output: () => out, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code} before listening:\n${out}`));
    });
  });
}
