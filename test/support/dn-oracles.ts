import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { compiledClient } from './c-client';
import { children, tbsWithSubject, tlv } from './der';
import { JavaDnOracle } from './java-dn';
import { fixedOpensslEnv } from './openssl-cli';
import type { TempDir } from './temp-dir';

/**
 * What OpenSSL prints for each Name (DER), as `openssl x509 -nameopt
 * RFC2253,-esc_msb` would, or undefined where OpenSSL refuses the Name (so
 * a certificate holding it): test/support/c/dn-print.c, built once, one
 * process for the whole batch, under an empty OpenSSL configuration.
 */
export function opensslPrintsNames(dir: TempDir, names: Buffer[]): (string | undefined)[] {
  if (names.length === 0) return [];
  const out = execFileSync(compiledClient('dn-print'), [], {
    input: names.map((name) => name.toString('hex')).join('\n') + '\n',
    env: fixedOpensslEnv(dir),
    maxBuffer: 256 * 1024 * 1024,
  }).toString('ascii');
  const lines = out.split('\n').filter(Boolean);
  if (lines.length !== names.length) throw new Error(`dn-print answered ${lines.length} lines for ${names.length} names`);
  return lines.map((line) => (line === 'err' ? undefined : Buffer.from(line.slice(3), 'hex').toString('utf8')));
}

/**
 * A certificate (its signature does not verify, which reading names does not
 * look at) with `subject` as its subject: a template certificate's TBS with
 * the subject swapped in.
 */
export function certificateWithSubject(template: X509Certificate, subject: Buffer): Buffer {
  const [tbs, ...rest] = children(template.raw);
  return tlv(0x30, Buffer.concat([tbsWithSubject(tbs, subject), ...rest]));
}

/** What Java 17 prints as `getSubjectDN().getName()` for each certificate, or undefined where Java refuses it. */
export function javaPrintsSubjects(java: JavaDnOracle, certificates: X509Certificate[]): (string | undefined)[] {
  const answers = java.run({ certificates });
  return answers.certificates.map((answer) => ('subject' in answer ? answer.subject : undefined));
}
