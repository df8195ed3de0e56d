import { MTLS_ENV } from './mtls-env';
import type { MtlsEnvOption } from './mtls-options.interface';

/** Where a name was written: as an `MTLS_*` variable, or as an option in code. */
export type NameForm = 'env' | 'code';

/** One of our options (with a value) as it is written in `form`: `MTLS_OCSP=true`, `ocsp: true`. */
export function ourSetting(option: MtlsEnvOption, form: NameForm, value?: string | boolean): string {
  if (form === 'env') return value === undefined ? MTLS_ENV[option][0] : `${MTLS_ENV[option][0]}=${String(value)}`;
  return value === undefined ? option : `${option}: ${typeof value === 'string' ? `'${value}'` : String(value)}`;
}

/**
 * A key of Dropwizard's HTTPS connector (`HttpsConnectorFactory`, and the
 * `port`/`bindHost` every connector has) and what it is here.
 */
export interface DropwizardKey {
  /** Dropwizard's name, as written in its YAML. */
  key: string;
  /** Dropwizard's default, as its documentation gives it. */
  dropwizardDefault: string;
  /** Our option with the same meaning, when there is one (its name may differ: `enableOCSP` is `ocsp`). */
  option?: MtlsEnvOption;
  /** The value of `option` that says what the key says (`wantClientAuth: true` is `needClientAuth: false`). */
  value?: string | boolean;
  /** When the key is not an option here: what to do instead, naming our settings in the form the user wrote. */
  instead?: (form: NameForm) => string;
}

const NO_PROVIDERS = () => 'there are no JCE providers: OpenSSL in Node does the work (an ordinary store file needs none; a key held by a PKCS#11 provider cannot be used)';

/**
 * Every key of Dropwizard's HTTPS connector, in the order of the README's
 * "Coming from Dropwizard" table (a test holds the two together), with
 * Dropwizard's default and our counterpart. `mtls migrate dropwizard` maps
 * each of them; a Dropwizard name used where ours belongs (an `MTLS_*`
 * variable, an option in code) is answered with ours.
 */
export const DROPWIZARD_HTTPS_KEYS: readonly DropwizardKey[] = [
  { key: 'keyStorePath', dropwizardDefault: 'required', option: 'keyStorePath' },
  { key: 'keyStorePassword', dropwizardDefault: 'required', option: 'keyStorePassword' },
  { key: 'keyStoreType', dropwizardDefault: '`JKS`', option: 'keyStoreType' },
  { key: 'keyStoreProvider', dropwizardDefault: 'none', instead: NO_PROVIDERS },
  { key: 'certAlias', dropwizardDefault: 'none', option: 'certAlias' },
  {
    key: 'keyManagerPassword',
    dropwizardDefault: 'none',
    instead: (form) =>
      `the key entry must open with ${ourSetting('keyStorePassword', form)}: re-export the store with one password (keytool -importkeystore ... -destkeypass <the store password>); an encrypted PEM key takes ${ourSetting('keyPassphrase', form)}`,
  },
  { key: 'trustStorePath', dropwizardDefault: 'none', option: 'trustStorePath' },
  { key: 'trustStorePassword', dropwizardDefault: 'none', option: 'trustStorePassword' },
  { key: 'trustStoreType', dropwizardDefault: '`JKS`', option: 'trustStoreType' },
  { key: 'trustStoreProvider', dropwizardDefault: 'none', instead: NO_PROVIDERS },
  { key: 'needClientAuth', dropwizardDefault: 'none (Jetty: `false`)', option: 'needClientAuth' },
  { key: 'wantClientAuth', dropwizardDefault: 'none', option: 'needClientAuth', value: false },
  { key: 'validateCerts', dropwizardDefault: '`false`', option: 'validateCerts' },
  { key: 'validatePeers', dropwizardDefault: '`false`', option: 'validatePeers' },
  { key: 'crlPath', dropwizardDefault: 'none', option: 'crlPath' },
  { key: 'enableCRLDP', dropwizardDefault: '`false`', option: 'enableCRLDP' },
  { key: 'enableOCSP', dropwizardDefault: '`false`', option: 'ocsp' },
  { key: 'ocspResponderUrl', dropwizardDefault: 'none', option: 'ocspResponderUrl' },
  {
    key: 'maxCertPathLength',
    dropwizardDefault: 'unlimited',
    instead: () => "a CA's own pathLenConstraint limits the chains below it: set it when you issue the CA (`mtls pki` makes the global CA with pathlen:0)",
  },
  { key: 'jceProvider', dropwizardDefault: 'none', instead: NO_PROVIDERS },
  { key: 'supportedProtocols', dropwizardDefault: "the JVM's", option: 'supportedProtocols' },
  {
    key: 'excludedProtocols',
    dropwizardDefault: '`SSL.*`, `TLSv1`, `TLSv1.1`',
    instead: (form) => `list the versions you allow in ${ourSetting('supportedProtocols', form)} (TLS 1.1 and older are never allowed)`,
  },
  { key: 'supportedCipherSuites', dropwizardDefault: "the JVM's", option: 'supportedCipherSuites' },
  {
    key: 'excludedCipherSuites',
    dropwizardDefault: "Jetty's",
    instead: (form) => `list the suites you allow in ${ourSetting('supportedCipherSuites', form)}`,
  },
  { key: 'allowRenegotiation', dropwizardDefault: '`true`', option: 'allowRenegotiation' },
  { key: 'endpointIdentificationAlgorithm', dropwizardDefault: 'none', option: 'endpointIdentification', value: 'HTTPS' },
  { key: 'disableSniHostCheck', dropwizardDefault: '`false`', instead: () => 'nothing here compares the SNI name with the Host header: leave it out' },
  { key: 'port', dropwizardDefault: '`8443`', instead: () => 'the port is the application\'s: app.listen(port) (the demo services read PORT)' },
  { key: 'bindHost', dropwizardDefault: 'all interfaces', instead: () => 'the address is the application\'s: app.listen(port, host) (the demo services read HOST)' },
];

/**
 * Jetty's `SslContextFactory` names that Dropwizard users meet in its docs
 * and stack traces: answered like the Dropwizard key they stand for.
 */
const JETTY_NAMES: Readonly<Record<string, string>> = {
  validatePeerCerts: 'validatePeers',
  renegotiationAllowed: 'allowRenegotiation',
  includeProtocols: 'supportedProtocols',
  excludeProtocols: 'excludedProtocols',
  includeCipherSuites: 'supportedCipherSuites',
  excludeCipherSuites: 'excludedCipherSuites',
};

const squash = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]/g, '');

/** The Dropwizard key (or Jetty name) that `name` stands for, when ours differs from it. */
function dropwizardKeyOf(name: string, form: NameForm): { written: string; key: DropwizardKey } | undefined {
  const bare = form === 'env' ? name.replace(/^MTLS_/i, '') : name;
  const wanted = squash(bare);
  for (const written of [...DROPWIZARD_HTTPS_KEYS.map((k) => k.key), ...Object.keys(JETTY_NAMES)]) {
    if (squash(written) !== wanted) continue;
    const key = DROPWIZARD_HTTPS_KEYS.find((k) => k.key === (JETTY_NAMES[written] ?? written));
    // Keys with our very name are options: only a misspelling of ours gets here, and the closest name answers it.
    if (key && (key.option === undefined || key.option !== written || key.value !== undefined)) return { written, key };
  }
  return undefined;
}

/**
 * What to say about `name` (`MTLS_ENABLE_OCSP`, or `enableOCSP` in code)
 * when it is a Dropwizard (or Jetty) name whose setting is named differently
 * here, or is not one: "Dropwizard's enableOCSP is MTLS_OCSP here". Undefined
 * when it is not such a name.
 */
export function dropwizardNameHint(name: string, form: NameForm): string | undefined {
  const found = dropwizardKeyOf(name, form);
  if (!found) return undefined;
  const { written, key } = found;
  const whose = written in JETTY_NAMES ? `Jetty's ${written} (Dropwizard's ${key.key})` : `Dropwizard's ${key.key}`;
  if (key.option !== undefined) {
    const setting = ourSetting(key.option, form, key.value);
    if (key.key === 'wantClientAuth') return `${whose}: true is ${setting} here (want mode: a certificate is requested, not demanded)`;
    return `${whose} is ${setting} here`;
  }
  return `${whose} has no counterpart: ${key.instead?.(form) ?? 'leave it out'}`;
}

/** The `MTLS_*` spellings of the Dropwizard keys that are named differently here, for nearest-name search. */
export const DROPWIZARD_ENV_SPELLINGS: readonly string[] = [...DROPWIZARD_HTTPS_KEYS.map((k) => k.key), ...Object.keys(JETTY_NAMES)]
  .filter((written) => dropwizardKeyOf(written, 'code') !== undefined)
  .map((written) => `MTLS_${written.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').toUpperCase()}`);
