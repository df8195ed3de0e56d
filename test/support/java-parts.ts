/**
 * Small Java programs of test/support/java/, compiled with javac at test time
 * (once per test file) and run with java: the article's own parts (its
 * Jersey-style client, its Dropwizard-style connector and filter) against
 * ours. Tests that use them first ask `requireTool('javac')` and
 * `requireTool('java')`, so they fail under CI when a JDK is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { JVM_FLAGS, JVM_LAUNCHER_FLAGS } from './jvm-flags';
import { runToolOk } from './openssl-cli';
import { TempDir } from './temp-dir';

const SOURCES = join(__dirname, 'java');

/** Java without JAVA_TOOL_OPTIONS ("Picked up ..." noise on stderr, options of the machine). */
const javaEnv = (): NodeJS.ProcessEnv => ({ ...process.env, JAVA_TOOL_OPTIONS: undefined });

/** Compiled classes, and the directory they are in (removed by `cleanup()`). */
export class JavaClasses extends TempDir {}

/** Compiles `sources` (file names in test/support/java) into a fresh directory. */
export function compileJava(...sources: string[]): JavaClasses {
  const classes = new JavaClasses('nest-mtls-java-');
  runToolOk('javac', [...JVM_LAUNCHER_FLAGS, '-d', classes.dir, ...sources.map((s) => join(SOURCES, s))], { env: javaEnv() });
  return classes;
}

/** Runs `main` of the classes to its end: exit status and output (never rejects; a run past `timeoutMs` is killed). */
export function runJava(classes: JavaClasses, main: string, args: string[], timeoutMs = 60_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('java', [...JVM_FLAGS, '-cp', classes.dir, main, ...args], { env: javaEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A Java server that printed `listening on PORT`, until `stop()`. */
export interface RunningJava {
  port: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `main` and resolves once it prints `listening on PORT`; rejects when it exits first or takes longer than `timeoutMs`. */
export function startJava(classes: JavaClasses, main: string, args: string[], timeoutMs = 60_000): Promise<RunningJava> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', [...JVM_FLAGS, '-cp', classes.dir, main, ...args], { env: javaEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${main} did not listen within ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const listening = /listening on (\d+)/.exec(out);
      if (listening) {
        clearTimeout(timer);
        resolve({ port: Number(listening[1]), child, output: () => out, stop });
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${main} exited with ${code} before it listened: ${out}`));
    });
  });
}
