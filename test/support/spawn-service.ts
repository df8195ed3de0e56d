import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort as freePortOfWorker } from '../../scripts/free-port';

const ROOT = join(__dirname, '..', '..');

/**
 * What every spawned service gets besides its own settings: PATH, and Node's
 * compile cache (NODE_COMPILE_CACHE, set once per run by jest-global-setup.js;
 * Node 22+ keeps the compiled code of Nest and the services there, so the
 * hundreds of services a run starts do not compile the same modules again).
 */
export function childBaseEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  if (process.env.NODE_COMPILE_CACHE) env.NODE_COMPILE_CACHE = process.env.NODE_COMPILE_CACHE;
  return env;
}

/** The built entry point of a demo service (`npm test` builds first; see scripts/ensure-built.js). */
export function serviceMain(app: string): string {
  return join(ROOT, 'dist', 'apps', app, 'apps', app, 'src', 'main.js');
}

export interface ServiceRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** True when the service printed that it listens (then it was stopped by us). */
  listened: boolean;
}

/**
 * Runs a built service with exactly `env` (plus childBaseEnv()) until it exits, or until
 * it says it listens (then stops it). For fail-fast checks.
 */
export function runService(app: string, env: Record<string, string>, timeoutMs = 30000): Promise<ServiceRun> {
  return runNodeService(serviceMain(app), env, timeoutMs);
}

/** As runService, for any script that prints `listening on` once it listens. */
export function runNodeService(script: string, env: Record<string, string>, timeoutMs = 30000): Promise<ServiceRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], {
      cwd: ROOT,
      env: { ...childBaseEnv(), HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let listened = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!listened && /listening on/.test(stdout)) {
        listened = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, listened });
    });
  });
}

/** A built service running as its own process, until `stop()`. */
export interface RunningService {
  child: import('node:child_process').ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * A free port for a service given PORT=... (it prints the port it was given, not the one it got): outside the
 * kernel's ephemeral range and in a slice of its own per Jest worker, so nothing else of the run takes it before the
 * service binds it (scripts/free-port.js).
 */
export const freePort: () => Promise<number> = freePortOfWorker;

/** Starts a built service with exactly `env` (plus childBaseEnv()) and resolves once it says it listens. */
export function startService(app: string, env: Record<string, string>, timeoutMs = 30000): Promise<RunningService> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serviceMain(app)], { cwd: ROOT, env: { ...childBaseEnv(), HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${app} did not listen within ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/listening on/.test(out)) {
        clearTimeout(timer);
        resolve({ child, output: () => out, stop });
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${app} exited with ${code} before it listened: ${out}`));
    });
  });
}
