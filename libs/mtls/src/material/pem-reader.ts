import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { MtlsConfigError } from '../errors/mtls-config.error';

/** One `-----BEGIN X-----` ... `-----END X-----` block. */
export interface PemBlock {
  label: string;
  /** The whole block, BEGIN and END lines included, with a final newline. */
  pem: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Every PEM block of a text, in order. */
export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1], pem: `${m[0]}\n` }));
}

const BEGIN = /-----BEGIN /g;
const BEGIN_LINE = /-----BEGIN ([A-Z0-9 ]+)-----/y;

/**
 * Throws unless every PEM block of `text` is whole: each BEGIN line complete
 * and followed by its END line before the next block. A file caught while it
 * is being written (a CRL or CA bundle cut inside its last block) would
 * otherwise read as a smaller bundle, silently: fewer CRLs (a revoked
 * certificate admitted under `revocationFailure: 'open'`) or fewer CAs
 * (their clients refused). Names the setting, the file and the block.
 */
export function assertWholePem(text: string, setting: string, file: string): void {
  const starts = [...text.matchAll(BEGIN)].map((m) => m.index);
  const lastLine = text.slice(text.lastIndexOf('\n') + 1).trimStart();
  if (lastLine.length > 0 && '-----BEGIN '.startsWith(lastLine)) {
    throw new MtlsConfigError(setting, `${file} is cut short inside the BEGIN line of a PEM block after its last complete one (a file still being written?)`);
  }
  starts.forEach((at, n) => {
    const which = starts.length > 1 ? `PEM block ${n + 1} of ${starts.length}` : 'its PEM block';
    BEGIN_LINE.lastIndex = at;
    const begin = BEGIN_LINE.exec(text);
    if (!begin) throw new MtlsConfigError(setting, `${file} is cut short: the BEGIN line of ${which} is incomplete (a file still being written?)`);
    const end = text.indexOf(`-----END ${begin[1]}-----`, at + begin[0].length);
    const next = n + 1 < starts.length ? starts[n + 1] : text.length;
    if (end < 0 || end > next) {
      const where = end < 0 && n + 1 === starts.length ? 'ends inside' : 'has no END line for';
      throw new MtlsConfigError(setting, `${file} ${where} ${which} (-----BEGIN ${begin[1]}----- without its -----END ${begin[1]}-----; a file still being written?)`);
    }
  });
}

/** All `CERTIFICATE` blocks of a PEM text; a block that does not parse is an error naming setting and file. */
export function readPemCertificates(text: string, setting: string, file: string): X509Certificate[] {
  const blocks = pemBlocks(text).filter((b) => b.label === 'CERTIFICATE');
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b.pem);
    } catch (e) {
      throw new MtlsConfigError(setting, `cannot parse certificate ${i + 1} of ${blocks.length} in ${file} (${reason(e)})`);
    }
  });
}

/** How to name things in messages about a PEM private key. */
export interface PemKeyOptions {
  /** The setting naming the file (`keyPath`, `keyStorePath`). */
  keySetting: string;
  /** The passphrase, if any. */
  passphrase?: string;
  /** The setting the passphrase comes from (`keyPassphrase`, or `keyStorePassword` for a PEM key store). */
  passphraseSetting: string;
}

/**
 * The private key of a PEM text: PKCS#8, PKCS#1, SEC1, encrypted PKCS#8 or
 * legacy `Proc-Type: 4,ENCRYPTED`. Returns undefined when the text holds no
 * private key; throws when it holds several, when it is encrypted and no
 * passphrase is set, or when the passphrase is wrong.
 */
export function readPemPrivateKey(text: string, file: string, opts: PemKeyOptions): KeyObject | undefined {
  const keys = pemBlocks(text).filter((b) => /(^|\s)PRIVATE KEY$/.test(b.label));
  if (keys.length === 0) return undefined;
  if (keys.length > 1) {
    throw new MtlsConfigError(opts.keySetting, `${file} holds ${keys.length} private keys; expected one`);
  }
  const block = keys[0];
  const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type:\s*4,ENCRYPTED/m.test(block.pem);
  if (encrypted && (opts.passphrase === undefined || opts.passphrase === '')) {
    throw new MtlsConfigError(
      opts.passphraseSetting,
      `${file} holds an encrypted private key; set ${opts.passphraseSetting}`,
    );
  }
  try {
    return createPrivateKey(encrypted ? { key: block.pem, format: 'pem', passphrase: opts.passphrase } : block.pem);
  } catch (e) {
    if (encrypted) throw new MtlsConfigError(opts.passphraseSetting, `wrong passphrase for ${file}`);
    throw new MtlsConfigError(opts.keySetting, `cannot parse the private key in ${file} (${reason(e)})`);
  }
}

/** An error's message without OpenSSL's `error:XXXXXXXX:` prefix noise. */
export function reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^error:[0-9A-F]+:/, '').replace(/\s+/g, ' ').trim();
}
