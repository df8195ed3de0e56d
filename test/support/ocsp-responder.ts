import { spawn, type ChildProcess } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import { request } from 'node:http';
import { opensslIndex, replaceFile, type IndexEntry } from './openssl-ca';
import { freePort } from './spawn-service';
import type { TempDir } from './temp-dir';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Files of the certificate and key that sign the answers, and of the CA they answer for. */
export interface ResponderFiles {
  caCert: string;
  signerCert: string;
  signerKey: string;
}

/**
 * `openssl ocsp` as a real OCSP responder on loopback, answering from an
 * OpenSSL CA database (index.txt) that the test rewrites (openssl re-reads
 * it when it changes); started by the test, stopped after.
 */
export class OcspResponder {
  private child?: ChildProcess;
  readonly output: string[] = [];

  private constructor(
    private readonly dir: TempDir,
    readonly index: string,
    readonly port: number,
    private readonly files: ResponderFiles,
    private readonly extra: string[],
  ) {}

  /** Starts a responder (on `port`, or a free one) answering from a database of `entries`; `extra` goes to `openssl ocsp`. */
  static async start(dir: TempDir, files: ResponderFiles, entries: IndexEntry[], extra: string[] = [], port?: number): Promise<OcspResponder> {
    const index = dir.write(`ocsp-index-${Date.now()}.txt`, opensslIndex(entries));
    dir.write(`${index.split('/').pop()}.attr`, 'unique_subject = no\n');
    const responder = new OcspResponder(dir, index, port ?? (await freePort()), files, extra);
    await responder.spawn();
    return responder;
  }

  /** `http://127.0.0.1:PORT/` */
  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /**
   * Rewrites the database (by rename). openssl notices a change by the
   * file's mtime in whole seconds, so the new file gets a later second than
   * the old one; and it looks before waiting for the next connection, so one
   * throwaway request makes it look now.
   */
  async update(entries: IndexEntry[]): Promise<void> {
    const before = statSync(this.index).mtimeMs;
    replaceFile(this.index, opensslIndex(entries));
    const later = new Date(Math.max(Date.now(), Math.floor(before / 1000) * 1000 + 1000));
    utimesSync(this.index, later, later);
    await new Promise<void>((resolve) => {
      const req = request(this.url, { method: 'GET', agent: false }, (res) => res.resume().on('end', resolve).on('error', resolve));
      req.on('error', () => resolve());
      req.end();
    });
  }

  private async spawn(): Promise<void> {
    const { caCert, signerCert, signerKey } = this.files;
    const child = spawn('openssl', ['ocsp', '-index', this.index, '-port', String(this.port), '-CA', caCert, '-rsigner', signerCert, '-rkey', signerKey, '-ignore_err', ...this.extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.output.length = 0;
    this.child = child;
    // Ready when it says so: a probe connection would hold up the one-connection-at-a-time responder.
    for (let i = 0; i < 100; i++) {
      if (this.output.join('').includes('ACCEPT')) return;
      if (child.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`openssl ocsp did not start: ${this.output.join('')}`);
  }

  /** Stops the responder (connections are refused until `restart()`). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  restart(): Promise<void> {
    return this.spawn();
  }
}

