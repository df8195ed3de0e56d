import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * A stranger's Nest app outside the repository, made from the files in
 * test/fixtures/consumer-app/src: its own package.json (its own Nest 12
 * patch), its own tsconfig (skipLibCheck false), and the packed nest-mtls
 * tarball installed from the npm cache.
 */

const FIXTURE = join(__dirname, '..', 'fixtures', 'consumer-app', 'src');
/** The entry files of FIXTURE that belong to one platform (each imports its adapter); the rest is shared. */
const ENTRIES: Record<HttpPlatform, string[]> = { express: ['main.ts', 'main-testing.ts'], fastify: ['main-fastify.ts'] };

/** The Nest patch the consumer pins: a different one than the repository's. */
export const CONSUMER_NEST_VERSION = '12.5.0';

/** How the consumer's code is compiled and loaded. */
export interface ModuleFormat {
  name: 'esm' | 'cjs';
  /** package.json "type". */
  type: 'module' | 'commonjs';
}

/**
 * Which HTTP platform the consumer installs: Express (the platform package and
 * @types/express) or Fastify (@nestjs/platform-fastify and NOT
 * @nestjs/platform-express, so the main entry of nest-mtls must load without it).
 */
export type HttpPlatform = 'express' | 'fastify';

/** The two ways a Nest app ships today; both use Nest 12's starter tsconfig (nodenext). */
export const MODULE_FORMATS: ModuleFormat[] = [
  { name: 'esm', type: 'module' },
  { name: 'cjs', type: 'commonjs' },
];

/**
 * One way to start the app: a compiled entry file of the fixture (`dist/NAME.js`)
 * that prints `listening on PORT`, and what it needs beyond the base dependencies.
 */
export interface Starter {
  name: string;
  entry: string;
  devDependencies?: Record<string, string>;
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

/** The consumer's package.json: Nest pinned to CONSUMER_NEST_VERSION, nest-mtls from the tarball. */
export function consumerPackageJson(format: ModuleFormat, tarball: string, starters: Starter[], platform: HttpPlatform = 'express'): object {
  const nest = CONSUMER_NEST_VERSION;
  return {
    name: `stranger-app-${format.name}${platform === 'express' ? '' : `-${platform}`}`,
    version: '1.0.0',
    private: true,
    type: format.type,
    dependencies: {
      '@nestjs/common': nest,
      '@nestjs/core': nest,
      [`@nestjs/platform-${platform}`]: nest,
      'nest-mtls': `file:${tarball}`,
      'reflect-metadata': '^0.2.2',
      rxjs: '^7.8.1',
    },
    devDependencies: Object.assign(
      { ...(platform === 'express' ? { '@types/express': '^5.0.0' } : {}), '@types/node': '^20.19.0', typescript: '6.0.3' },
      ...starters.map((s) => s.devDependencies ?? {}),
    ),
  };
}

/** The environment for npm and node in the consumer: this process's, without what `npm test` exported for the repository. */
export function consumerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_|^INIT_CWD$/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in `cwd` (npm, npx, node, ...) and resolves with its exit code and output. */
export function runIn(cwd: string, cmd: string, args: string[], timeoutMs = 120000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: consumerEnv(), timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like runIn, but a failure throws with the command's output (for set-up steps). */
export async function mustRunIn(cwd: string, cmd: string, args: string[], timeoutMs?: number): Promise<CommandResult> {
  const r = await runIn(cwd, cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${cwd} exited with ${r.code}:\n${r.stdout}\n${r.stderr}`.slice(0, 8000));
  return r;
}

/**
 * Writes the consumer project into `dir` (package.json, tsconfig.json, src/) without installing it.
 * It gets the shared files of the fixture and the entry files of its platform only.
 */
export function writeConsumerApp(dir: string, format: ModuleFormat, tarball: string, starters: Starter[], platform: HttpPlatform = 'express'): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(consumerPackageJson(format, tarball, starters, platform), null, 2)}\n`);
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(consumerTsconfig(), null, 2)}\n`);
  const otherPlatforms = (Object.keys(ENTRIES) as HttpPlatform[]).filter((p) => p !== platform);
  const skipped = new Set(otherPlatforms.flatMap((p) => ENTRIES[p]));
  cpSync(FIXTURE, join(dir, 'src'), { recursive: true, filter: (file) => !skipped.has(basename(file)) });
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
