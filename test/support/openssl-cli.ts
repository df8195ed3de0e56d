import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { TempDir } from './temp-dir';

type RunOptions = { cwd?: string; env?: NodeJS.ProcessEnv; input?: string };

/** Runs a command-line tool; exit status, stdout, stderr, and both together in `out`. Never throws. */
export function runTool(cmd: string, args: string[], options: RunOptions = {}): { status: number; stdout: string; stderr: string; out: string } {
  const r = spawnSync(cmd, args, { ...options, encoding: 'utf8' });
  const stdout = r.stdout ?? '';
  const stderr = r.stderr ?? (r.error ? String(r.error) : '');
  return { status: r.status ?? -1, stdout, stderr, out: stdout + stderr };
}

/** Runs a command-line tool: its stdout + stderr, or an error with both when it fails. */
export function runToolOk(cmd: string, args: string[], options: RunOptions = {}): string {
  const r = runTool(cmd, args, options);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.out}`);
  return r.out;
}

export const openssl = (args: string[], options?: RunOptions) => runTool('openssl', args, options);
export const opensslOk = (args: string[], options?: RunOptions) => runToolOk('openssl', args, options);

/**
 * Subject and issuer of a certificate file (PEM or DER) as
 * `openssl x509 -nameopt RFC2253,-esc_msb` prints them, without the
 * `subject=` / `issuer=` prefixes: the DN contract of DESIGN.md.
 */
export function opensslNames(certFile: string, env?: NodeJS.ProcessEnv): { subject: string; issuer: string } {
  const inform = readFileSync(certFile).subarray(0, 5).toString() === '-----' ? 'PEM' : 'DER';
  const out = opensslOk(['x509', '-inform', inform, '-in', certFile, '-noout', '-subject', '-issuer', '-nameopt', 'RFC2253,-esc_msb'], { env });
  const subject = /^subject=(.*)$/m.exec(out);
  const issuer = /^issuer=(.*)$/m.exec(out);
  if (!subject || !issuer) throw new Error(`unexpected openssl output: ${out}`);
  return { subject: subject[1], issuer: issuer[1] };
}

export const opensslSubject = (certFile: string): string => opensslNames(certFile).subject;

/** An environment that runs openssl with an empty configuration file: no distribution oid_section or string_mask surprises. */
export function fixedOpensslEnv(dir: TempDir): NodeJS.ProcessEnv {
  if (!existsSync(dir.path('openssl-empty.cnf'))) dir.write('openssl-empty.cnf', '');
  return { ...process.env, OPENSSL_CONF: dir.path('openssl-empty.cnf') };
}

/** `-multivalue-rdn` (`+` joins attributes into one RDN), the `string_mask` (default utf8only), validity days (default 1), `-addext` values. */
export type OpensslCertOptions = { multivalue?: boolean; mask?: string; days?: number; addext?: string[] };

let made = 0;

/**
 * A self-signed certificate made by `openssl req -x509 -utf8 -subj SUBJECT`
 * (openssl's slash syntax, least specific RDN first) with a fresh P-256 key,
 * under the fixed configuration, as DER. For tests whose point is how
 * openssl encodes what it is given (differential DN tests, SANs in the
 * order written).
 */
export function opensslSelfSigned(dir: TempDir, subject: string, options: OpensslCertOptions = {}): Buffer {
  const n = ++made;
  const config = dir.write(`req-${n}.cnf`, `[req]\ndistinguished_name = dn\nstring_mask = ${options.mask ?? 'utf8only'}\n[dn]\n`);
  const out = dir.path(`self-signed-${n}.der`);
  opensslOk(
    ['req', '-x509', '-config', config, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', dir.path(`self-signed-${n}.key`),
      '-days', String(options.days ?? 1), '-utf8', '-subj', subject, '-outform', 'DER', '-out', out,
      ...(options.multivalue ? ['-multivalue-rdn'] : []), ...(options.addext ?? []).flatMap((ext) => ['-addext', ext])],
    { env: fixedOpensslEnv(dir) },
  );
  return readFileSync(out);
}
