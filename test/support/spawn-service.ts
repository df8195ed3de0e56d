import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

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
 * Runs a built service with exactly `env` (plus PATH) until it exits, or until
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
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
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
