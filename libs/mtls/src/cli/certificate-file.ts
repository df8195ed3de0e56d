import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { readStore } from '../material/store-reader';
import { sniffStoreType } from '../material/store-type';
import { CommandError, UsageError } from './commands/command';

/** One certificate of a file, with the key entry it belongs to in a key store. */
export interface FileCertificate {
  certificate: X509Certificate;
  /** The key entry this certificate belongs to: its own certificate, or a CA of the chain stored with it (JKS). */
  keyEntry?: { alias?: string; own: boolean };
}

/** The certificates of a file and what kind of file it is. */
export interface CertificateFile {
  /** `PEM`, `DER`, `PKCS12` or `JKS`. */
  type: string;
  certificates: FileCertificate[];
}

/** How to open a store: its password, and which key entry. */
export interface CertificateFileOptions {
  password?: string;
  alias?: string;
}

/**
 * Reads the certificates of a PEM file, a DER certificate, a PKCS#12 or a JKS
 * store, with the library's own store readers (the content decides the type,
 * as for keyStorePath). With an alias: the certificate of that key entry and
 * the chain stored with it. Errors name the file and say what to do.
 */
export function readCertificateFile(file: string, opts: CertificateFileOptions = {}): CertificateFile {
  const content = readFile(file);
  let type: string;
  try {
    type = sniffStoreType(content, 'FILE', file);
  } catch (err) {
    const der = derCertificate(content);
    if (der) return { type: 'DER', certificates: [{ certificate: der }] };
    if (/JCEKS/.test(problem(err))) throw new CommandError(problem(err));
    throw new CommandError(`${file}: not a certificate or key store (expected PEM, DER, PKCS#12 or JKS)`);
  }
  if (opts.alias !== undefined && type === 'PEM') throw new UsageError('--alias selects a key entry of a PKCS#12 or JKS store, not of a PEM file');
  if (opts.alias !== undefined && type === 'JKS' && opts.password === undefined) throw new UsageError('--alias needs --password for a JKS store (its key entries are encrypted)');
  let store;
  try {
    store = readStore(file, {
      pathSetting: 'FILE',
      passwordSetting: '--password',
      password: opts.password,
      // PKCS#12 opens whole with its password; JKS key entries (and their aliases) need the password.
      withKeys: type === 'PKCS12' || (type === 'JKS' && opts.password !== undefined),
    });
  } catch (err) {
    throw new CommandError(problem(err));
  }
  const entries = store.keyEntries.filter((e) => e.certificate !== undefined);
  const entryOf = (cert: X509Certificate): FileCertificate['keyEntry'] => {
    const own = entries.find((e) => e.certificate!.fingerprint256 === cert.fingerprint256);
    if (own) return { alias: own.alias, own: true };
    const chained = entries.find((e) => e.chain.some((c) => c.fingerprint256 === cert.fingerprint256));
    return chained ? { alias: chained.alias, own: false } : undefined;
  };
  if (opts.alias !== undefined) {
    const entry = entries.find((e) => e.alias === opts.alias);
    if (!entry) {
      const names = entries.map((e) => e.alias).filter((a): a is string => a !== undefined);
      throw new CommandError(`${file}: no key entry "${opts.alias}" (key entries: ${names.length > 0 ? names.join(', ') : 'none'})`);
    }
    const chain = entry.chain.length > 0 ? entry.chain : [entry.certificate!];
    return { type, certificates: chain.map((certificate, i) => ({ certificate, keyEntry: { alias: entry.alias, own: i === 0 } })) };
  }
  if (store.certificates.length === 0) throw new CommandError(`${file}: no certificate in it${type === 'PEM' ? ' (PEM without a CERTIFICATE block)' : ''}`);
  return { type, certificates: store.certificates.map((certificate) => ({ certificate, keyEntry: entryOf(certificate) })) };
}

function readFile(file: string): Buffer {
  try {
    if (statSync(file).isDirectory()) throw new CommandError(`${file}: is a directory`);
    const content = readFileSync(file);
    if (content.length === 0) throw new CommandError(`${file}: is empty`);
    return content;
  } catch (err) {
    if (err instanceof CommandError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new CommandError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
}

function derCertificate(content: Buffer): X509Certificate | undefined {
  if (content[0] !== 0x30) return undefined;
  try {
    return new X509Certificate(content);
  } catch {
    return undefined;
  }
}

/** The library's message without the setting it names in a service (it names the file, and --password when that is the fix). */
function problem(err: unknown): string {
  if (err instanceof MtlsConfigError) return err.problem;
  return err instanceof Error ? err.message : String(err);
}
