import type { KeyStoreType } from '../config/mtls-options.interface';
import { MtlsConfigError } from '../errors/mtls-config.error';

const JKS_MAGIC = 0xfeedfeed;
const JCEKS_MAGIC = 0xcececece;

/** The settings that name one store file, for messages. */
export interface StoreSettings {
  /** `keyStorePath`, `trustStorePath`, `certPath`, `keyPath`. */
  pathSetting: string;
  /** `keyStoreType` / `trustStoreType`; absent for PEM-only settings. */
  typeSetting?: string;
  /** `keyStorePassword` / `trustStorePassword`. */
  passwordSetting?: string;
}

/**
 * The type of a store judged from its CONTENT, never from the file name
 * (Java 9+ keytool writes PKCS#12 even into `keystore.jks`):
 * 0xFEEDFEED = JKS, `-----BEGIN` = PEM, a DER SEQUENCE holding a PFX (version 3) = PKCS12.
 * JCEKS and anything else are refused with a message naming the setting and file.
 */
export function sniffStoreType(content: Buffer, setting: string, file: string): KeyStoreType {
  if (content.length >= 4) {
    const magic = content.readUInt32BE(0);
    if (magic === JKS_MAGIC) return 'JKS';
    if (magic === JCEKS_MAGIC) {
      throw new MtlsConfigError(
        setting,
        `${file} is a JCEKS store: JCEKS is not supported, convert with keytool -importkeystore -srckeystore ${file} -srcstoretype JCEKS -destkeystore store.p12 -deststoretype PKCS12`,
      );
    }
  }
  if (looksLikePem(content)) return 'PEM';
  if (content[0] === 0x30) {
    if (isPfx(content)) return 'PKCS12';
    throw new MtlsConfigError(
      setting,
      `not a PEM, PKCS#12 or JKS file: ${file} (DER data that is not PKCS#12: a DER certificate or key? convert it to PEM)`,
    );
  }
  throw new MtlsConfigError(setting, `not a PEM, PKCS#12 or JKS file: ${file}`);
}

/** Java key store formats, which Java 9+ reads under either name (`keystore.type.compat`). */
const JAVA_STORES: readonly string[] = ['JKS', 'PKCS12'];

/**
 * Sniffs the content and checks it against an explicit type setting. As in
 * Java 9+, JKS and PKCS12 read each other (keytool writes PKCS12 even into
 * `keystore.jks`, and ported Dropwizard configs still say JKS): the content
 * decides. PEM against a binary store, or the reverse, is an error naming the
 * type setting and the file.
 */
export function resolveStoreType(
  content: Buffer,
  file: string,
  settings: StoreSettings,
  declared: KeyStoreType | undefined,
): KeyStoreType {
  const actual = sniffStoreType(content, settings.pathSetting, file);
  if (declared !== undefined && settings.typeSetting) {
    const wanted = String(declared).toUpperCase();
    const compatible = wanted === actual || (JAVA_STORES.includes(wanted) && JAVA_STORES.includes(actual));
    if (!compatible) {
      throw new MtlsConfigError(settings.typeSetting, `is ${declared} but ${file} holds ${actual} content; set ${actual} or leave ${settings.typeSetting} unset`);
    }
  }
  return actual;
}

/** PEM text: `-----BEGIN ` somewhere in the first bytes of text (openssl may prefix "Bag Attributes"). */
function looksLikePem(content: Buffer): boolean {
  const head = content.subarray(0, 64 * 1024).toString('latin1');
  const at = head.indexOf('-----BEGIN ');
  if (at < 0) return false;
  // Everything before the first block must be text (UTF-8 allowed), not binary.
  return !/[\x00-\x08\x0e-\x1a\x1c-\x1f]/.test(head.slice(0, at));
}

/** PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, macData OPTIONAL }. */
function isPfx(der: Buffer): boolean {
  let i = 1;
  const first = der[i++];
  if (first === undefined) return false;
  if (first & 0x80) {
    const n = first & 0x7f; // 0 = BER indefinite length: nothing to skip
    if (n > 4) return false;
    i += n;
  }
  return der[i] === 0x02 && der[i + 1] === 0x01 && der[i + 2] === 0x03;
}
