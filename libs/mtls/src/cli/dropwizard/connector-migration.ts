import { closestName } from '../../config/closest-name';
import { DROPWIZARD_HTTPS_KEYS, dropwizardNameHint } from '../../config/dropwizard-names';
import { MTLS_ENV } from '../../config/mtls-env';
import { MtlsConfigError } from '../../errors/mtls-config.error';
import type { MtlsEnvOption, MtlsOptions } from '../../config/mtls-options.interface';
import { validateMtlsOptions } from '../../config/validate-mtls-options';
import type { DropwizardConnector } from './dropwizard-connectors';
import { javaFullMatchRegExp } from '../../policy/java-regex';

/** One output line, `NAME=value`: an `MTLS_*` variable of `option`, or PORT, HOST, ADMIN_PORT, ADMIN_HOST. */
export interface MigratedSetting {
  name: string;
  /** The value as it goes into the environment (lists comma-joined). */
  value: string;
  /** The option it sets, for the MtlsModule.forRoot snippet, with its value there. */
  option?: string;
  optionValue?: unknown;
  /** A password: the snippet reads it from the environment instead of writing it into code. */
  secret?: boolean;
}

/** What one connector becomes: settings, notes on what differs, and what cannot be carried over. */
export interface ConnectorMigration {
  connector: DropwizardConnector;
  settings: MigratedSetting[];
  /** The port it listened on (a number, or `${VAR}` text left for the shell). */
  port: string;
  host?: string;
  /** `# note:` lines: settings whose meaning differs here, defaults that differ, keys with no effect here. */
  notes: string[];
  /** Keys that cannot be carried over: `key: why`. Any of them stops the command (exit 2). */
  refusals: string[];
}

/** The DN format the migrated regex needs, and its variable (the option `dnFormat`, `MTLS_DN_FORMAT`). */
export const JDK_DN_FORMAT = { option: 'dnFormat', variable: 'MTLS_DN_FORMAT', value: 'jdk' } as const;

/**
 * Keys every Dropwizard HTTP connector has (HttpConnectorFactory) besides
 * `port` and `bindHost`: HTTP and Jetty tuning, not TLS. Each gets a note
 * saying what takes its place in Node, or that nothing does.
 */
const HTTP_KEYS: Readonly<Record<string, string>> = {
  idleTimeout: "Node's server.keepAliveTimeout (5 s) closes idle connections; nest-mtls closes a connection that sends no request header within requestHeaderTimeoutMs",
  maxRequestHeaderSize: "Node's limit is --max-http-header-size (16 KiB by default)",
  minRequestDataPerSecond: "Node's server.requestTimeout and headersTimeout bound slow requests instead",
  minResponseDataPerSecond: "Node has no counterpart",
  useForwardedHeaders: "Express reads X-Forwarded-* only with app.set('trust proxy', ...); nest-mtls judges the TLS peer, never those headers",
  useServerHeader: 'Node sends no Server header',
  useDateHeader: 'Node sends a Date header (res.sendDate)',
  inheritChannel: 'Node listens itself',
  useProxyProtocol: 'Node reads no PROXY protocol header before the handshake',
};
const JETTY_TUNING = [
  'headerCacheSize', 'outputBufferSize', 'maxResponseHeaderSize', 'inputBufferSize', 'minBufferPoolSize', 'bufferPoolIncrement',
  'maxBufferPoolSize', 'acceptorThreads', 'selectorThreads', 'acceptQueueSize', 'reuseAddress', 'soLingerTime', 'blockingTimeout',
  'httpCompliance', 'requestCookieCompliance', 'responseCookieCompliance', 'uriCompliance',
];
/** Keys of the `h2` connector (Http2ConnectorFactory) on top of https's. */
const H2_KEYS = ['maxConcurrentStreams', 'initialStreamRecvWindow'];
/** Turned on, these change who can connect at all: nest-mtls cannot do them. */
const REFUSED_WHEN_TRUE = ['inheritChannel', 'useProxyProtocol'];

/** Jetty's default excludedCipherSuites, which Dropwizard leaves in place unless the YAML gives its own. */
export const JETTY_EXCLUDED_CIPHER_SUITES = ['^.*_(MD5|SHA|SHA1)$', '^TLS_RSA_.*$', '^SSL_.*$', '^.*_NULL_.*$', '^.*_anon_.*$'];
const OUR_PROTOCOLS = ['TLSv1.2', 'TLSv1.3'];
const REVOCATION_KEYS = ['crlPath', 'enableCRLDP', 'enableOCSP', 'ocspResponderUrl'];

/** A value Dropwizard's EnvironmentVariableSubstitutor fills in: `${VAR}` or `${VAR:-default}`. */
export const isSubstituted = (value: unknown): boolean => typeof value === 'string' && value.includes('${');

/** A Java regex (as Jetty's include/exclude lists take them) matched whole, as `Matcher.matches()`. */
function wholeMatch(pattern: string, where: string): RegExp {
  try {
    return javaFullMatchRegExp(pattern);
  } catch (err) {
    throw new Refusal(where, `"${pattern}" is a Java regex that cannot be matched exactly here (${(err as Error).message}): list the names instead`);
  }
}

class Refusal extends Error {
  constructor(readonly key: string, readonly why: string) {
    super(`${key}: ${why}`);
  }
}

/** The connector's keys, read with Jackson's leniency (a number where a string goes, "true" for true). */
class Fields {
  constructor(private readonly fields: Record<string, unknown>) {}

  has(key: string): boolean {
    return this.fields[key] !== undefined && this.fields[key] !== null;
  }

  string(key: string): string | undefined {
    const value = this.fields[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new Refusal(key, 'expected a single value');
  }

  bool(key: string): boolean | undefined {
    const value = this.fields[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
    if (typeof value === 'string' && isSubstituted(value)) throw new Refusal(key, `${value}: migrate must know this value to carry it over: write true or false`);
    throw new Refusal(key, `expected true or false, got ${JSON.stringify(value)}`);
  }

  list(key: string): string[] | undefined {
    const value = this.fields[key];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Refusal(key, 'expected a list of names');
    if (value.some(isSubstituted)) throw new Refusal(key, 'migrate must know these names to carry them over: write them out');
    return value.map((v) => v.trim());
  }
}

/**
 * What an `https` (or `h2`) application connector becomes: the `MTLS_*`
 * settings (and PORT, HOST) that reproduce it, a note for every setting
 * whose meaning or default differs here, and a refusal for every key that
 * cannot be carried over. With `dnRegex` (the article's
 * CertificateValidationFilter regex), the DN format it was written for:
 * `MTLS_DN_FORMAT=jdk`. The settings are checked as MtlsModule checks them
 * at startup (without reading any file).
 */
export function migrateApplicationConnector(connector: DropwizardConnector, options: { dnRegex?: string } = {}): ConnectorMigration {
  const f = new Fields(connector.fields);
  const settings: MigratedSetting[] = [];
  const notes: string[] = [];
  const refusals: string[] = [];
  const set = (option: keyof MtlsOptions, optionValue: unknown, secret = false) => {
    const value = Array.isArray(optionValue) ? optionValue.join(',') : String(optionValue);
    settings.push({ name: MTLS_ENV[option as MtlsEnvOption][0], value, option, optionValue, secret });
  };
  const attempt = (step: () => void) => {
    try {
      step();
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      refusals.push(err.message);
    }
  };
  const known = new Set(['type', ...DROPWIZARD_HTTPS_KEYS.map((k) => k.key), ...Object.keys(HTTP_KEYS), ...JETTY_TUNING, ...(connector.type === 'h2' ? H2_KEYS : [])]);
  const done = new Set<string>();
  const tuning: string[] = [];
  let port = '8443';
  let host: string | undefined;

  for (const key of Object.keys(connector.fields)) {
    if (!known.has(key)) {
      refusals.push(`${key}: ${unknownKey(key, connector.type, [...known])}`);
      continue;
    }
    if (done.has(key)) continue;
    attempt(() => {
      switch (key) {
        case 'type':
          return;
        case 'port': {
          const value = f.string(key);
          if (value !== undefined && !isSubstituted(value) && !(/^\d{1,5}$/.test(value) && Number(value) <= 65535)) throw new Refusal(key, `expected a port number, got "${value}"`);
          if (value !== undefined) port = value;
          return;
        }
        case 'bindHost':
          host = f.string(key);
          return;
        case 'keyStorePath':
        case 'trustStorePath':
        case 'certAlias':
        case 'crlPath':
        case 'ocspResponderUrl': {
          const value = f.string(key);
          if (value !== undefined) set(key, value);
          return;
        }
        case 'keyStorePassword':
        case 'trustStorePassword': {
          const value = f.string(key);
          if (value !== undefined) set(key, value, true);
          return;
        }
        case 'keyStoreType':
        case 'trustStoreType': {
          const value = f.string(key);
          if (value !== undefined) set(key, storeType(key, value));
          return;
        }
        case 'keyManagerPassword': {
          const value = f.string(key);
          if (value === undefined) return;
          if (value === f.string('keyStorePassword')) notes.push('keyManagerPassword: the same as keyStorePassword, which opens the key entry here: nothing more to set');
          else throw new Refusal(key, `differs from keyStorePassword: ${instead(key)}`);
          return;
        }
        case 'keyStoreProvider':
        case 'trustStoreProvider':
        case 'jceProvider':
          if (f.has(key)) throw new Refusal(key, `${instead(key)}: take it out if the store is an ordinary file`);
          return;
        case 'needClientAuth':
        case 'wantClientAuth':
          done.add('needClientAuth').add('wantClientAuth');
          clientAuth(f, set, notes);
          return;
        case 'validateCerts': {
          const value = f.bool(key);
          if (value === undefined) return;
          set('validateCerts', value);
          if (!value) notes.push('validateCerts: false: our own chain is not checked against the trust store at startup; its key, validity and usage still are');
          return;
        }
        case 'validatePeers': {
          const value = f.bool(key);
          if (value === undefined) return;
          set('validatePeers', value);
          if (!value) notes.push('validatePeers: false: as in Dropwizard, the client\'s chain is still verified against the trust store in the handshake; only revocation checking is off');
          return;
        }
        case 'enableCRLDP': {
          const value = f.bool(key);
          if (value === undefined) return;
          set('enableCRLDP', value);
          if (value) notes.push('enableCRLDP: the CRLs that client certificates (and our CAs) name are downloaded over HTTP, cached and refreshed; a caller is judged right after the handshake, before its first request, and refused when its status cannot be learned (MTLS_REVOCATION_FAILURE=closed, as in Java)');
          return;
        }
        case 'enableOCSP': {
          const value = f.bool(key);
          if (value === undefined) return;
          set('ocsp', value);
          if (value) notes.push('enableOCSP: ours is MTLS_OCSP: the responder of each client certificate is asked right after the handshake, before its first request; answers are cached until their nextUpdate');
          return;
        }
        case 'maxCertPathLength': {
          const value = f.string(key);
          if (value === undefined || value === '-1') return;
          throw new Refusal(key, `${value}: there is no such limit here; ${instead(key)}`);
        }
        case 'supportedProtocols':
        case 'excludedProtocols':
          done.add('supportedProtocols').add('excludedProtocols');
          protocols(f, set, notes);
          return;
        case 'supportedCipherSuites':
        case 'excludedCipherSuites':
          done.add('supportedCipherSuites').add('excludedCipherSuites');
          cipherSuites(f, set, notes);
          return;
        case 'allowRenegotiation': {
          const value = f.bool(key);
          if (value === undefined) return;
          set('allowRenegotiation', value);
          if (value) notes.push('allowRenegotiation: true applies to TLS 1.2 only (TLS 1.3 has no renegotiation); a renegotiated certificate is judged again');
          return;
        }
        case 'endpointIdentificationAlgorithm': {
          const value = f.string(key)?.trim();
          if (value === undefined || value === '') return;
          if (value.toUpperCase() !== 'HTTPS') throw new Refusal(key, `"${value}" is not supported: HTTPS is the only endpoint identification algorithm here`);
          set('endpointIdentification', 'HTTPS');
          notes.push('endpointIdentificationAlgorithm: the client certificate must name the address the client connects from (an IP SAN, or a DNS SAN resolving to it); a caller that fails it gets 403 (Java ends the handshake) and the reason goes to the log');
          return;
        }
        case 'disableSniHostCheck':
          notes.push('disableSniHostCheck: nothing here compares the SNI name with the Host header (as with true): leave it out');
          return;
        default:
          if (REFUSED_WHEN_TRUE.includes(key) && f.bool(key)) throw new Refusal(key, `true is not supported: ${HTTP_KEYS[key]}`);
          if (key in HTTP_KEYS) notes.push(`${key}: an HTTP setting, not TLS: not carried over (${HTTP_KEYS[key]})`);
          else tuning.push(key);
      }
    });
  }
  if (tuning.length > 0) notes.push(`${tuning.join(', ')}: Jetty's ${connector.type === 'h2' && tuning.some((k) => H2_KEYS.includes(k)) ? 'HTTP/2 and ' : ''}tuning, not TLS: Node has no counterpart (not carried over)`);
  if (connector.type === 'h2') notes.push('type h2: nest-mtls serves HTTP/1.1 over TLS: clients that offer HTTP/2 in ALPN fall back to HTTP/1.1');

  // What is not in the YAML: Dropwizard's defaults where ours differ.
  if (!done.has('needClientAuth')) clientAuth(f, set, notes);
  if (!f.has('port')) notes.push("port: not set: Dropwizard's https default, 8443");
  if (!f.has('keyStorePath')) refusals.push('keyStorePath: missing: Dropwizard requires it (our key and certificate chain)');
  if (!f.has('trustStorePath')) refusals.push("trustStorePath: missing: Dropwizard then trusts the JVM's public CAs (cacerts); nest-mtls trusts only the CAs you give it: add your CA's trust store");
  if (!f.has('validateCerts')) notes.push('validateCerts: not set (Dropwizard: false); nest-mtls checks at startup that our own chain verifies to the trust store (MTLS_VALIDATE_CERTS=false turns that off; key, validity and usage are checked either way)');
  if (!f.has('allowRenegotiation')) notes.push('allowRenegotiation: not set (Dropwizard: true); nest-mtls refuses client-initiated renegotiation unless MTLS_ALLOW_RENEGOTIATION=true (TLS 1.3 has none)');
  if (!f.has('supportedCipherSuites') && !f.has('excludedCipherSuites')) {
    notes.push("supportedCipherSuites: not set: Dropwizard offered the JVM's suites less Jetty's exclusions (no static RSA key exchange, no SHA-1 MACs); Node's default list still has some of those: list the suites you want in MTLS_SUPPORTED_CIPHER_SUITES");
  }
  attempt(() => {
    const revocation = REVOCATION_KEYS.filter((k) => (k === 'enableCRLDP' || k === 'enableOCSP' ? f.bool(k) === true : f.has(k)));
    if (revocation.length > 0 && f.bool('validatePeers') !== true) {
      throw new Refusal(
        revocation.join(', '),
        `${f.has('validatePeers') ? 'validatePeers is false' : "validatePeers is not set (Dropwizard's default: false)"}, so Dropwizard never checks ${revocation.length > 1 ? 'them' : 'it'}: set validatePeers: true to check revocation, or take ${revocation.length > 1 ? 'them' : 'it'} out`,
      );
    }
  });

  if (options.dnRegex !== undefined) settings.push({ name: JDK_DN_FORMAT.variable, value: JDK_DN_FORMAT.value, option: JDK_DN_FORMAT.option, optionValue: JDK_DN_FORMAT.value });

  if (refusals.length === 0) {
    // The library's own startup checks of these values (names, protocols, suites, URLs), without the files.
    const checked = Object.fromEntries(settings.filter((s) => s.option && !isSubstituted(s.optionValue)).map((s) => [s.option ?? '', s.optionValue] as const));
    try {
      validateMtlsOptions(checked);
    } catch (err) {
      if (!(err instanceof MtlsConfigError)) throw err;
      refusals.push(err.message);
    }
  }
  return { connector, settings, port, host, notes, refusals };
}

/**
 * What an `https` admin connector becomes: nest-mtls's admin listener
 * (MtlsAdminModule) on ADMIN_PORT, which serves health, metrics and the
 * policy inventory over plain HTTP; its TLS keys have nothing to apply to.
 */
export function migrateAdminConnector(connector: DropwizardConnector): ConnectorMigration {
  const f = new Fields(connector.fields);
  const refusals: string[] = [];
  const known = new Set(['type', ...DROPWIZARD_HTTPS_KEYS.map((k) => k.key), ...Object.keys(HTTP_KEYS), ...JETTY_TUNING, ...(connector.type === 'h2' ? H2_KEYS : [])]);
  for (const key of Object.keys(connector.fields)) if (!known.has(key)) refusals.push(`${key}: ${unknownKey(key, connector.type, [...known])}`);
  let port = '8081';
  let host: string | undefined;
  try {
    port = f.string('port') ?? port;
    host = f.string('bindHost');
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    refusals.push(err.message);
  }
  const settings: MigratedSetting[] = [{ name: 'ADMIN_PORT', value: port }];
  if (host !== undefined) settings.push({ name: 'ADMIN_HOST', value: host });
  const tls = Object.keys(connector.fields).filter((k) => k !== 'type' && k !== 'port' && k !== 'bindHost' && DROPWIZARD_HTTPS_KEYS.some((d) => d.key === k));
  const notes = [
    `admin connector: nest-mtls's admin listener (MtlsAdminModule from nest-mtls/admin; the demo services read ADMIN_PORT and ADMIN_HOST) answers GET /health, /health/live, /metrics and /policies over plain HTTP, with no tasks and nothing secret; ${tls.length > 0 ? `its TLS keys (${tls.join(', ')}) have no counterpart there` : 'it has no TLS'}: keep it on loopback or the pod network`,
  ];
  if (host === undefined) notes.push('bindHost: not set: Dropwizard bound every interface; the admin listener binds 127.0.0.1 unless ADMIN_HOST says otherwise');
  return { connector, settings, port, host, notes, refusals };
}

/** What to do instead of a Dropwizard key that has no counterpart, naming our options. */
function instead(key: string): string {
  return DROPWIZARD_HTTPS_KEYS.find((k) => k.key === key)?.instead?.('code') ?? 'leave it out';
}

/** What to say about a key the connector does not have. */
function unknownKey(key: string, type: string, known: string[]): string {
  const jetty = /^Jetty's \S+ \(Dropwizard's (\S+)\)/.exec(dropwizardNameHint(key, 'code') ?? '');
  if (jetty) return `not a key of Dropwizard's ${type} connector: it is Jetty's name; Dropwizard's is ${jetty[1]}`;
  const suggestion = closestName(key, known);
  return `not a key of Dropwizard's ${type} connector${suggestion ? `; did you mean ${suggestion}?` : ''} (Dropwizard refuses unknown keys too)`;
}

/** A store type we read, or a refusal saying what to do with it. */
function storeType(key: string, raw: string): string {
  const type = raw.trim().toUpperCase();
  if (type === 'JKS' || type === 'PKCS12') return type;
  if (type === 'JCEKS') {
    throw new Refusal(key, 'JCEKS is not read here: convert the store (keytool -importkeystore -srckeystore STORE -srcstoretype JCEKS -destkeystore STORE.p12 -deststoretype PKCS12)');
  }
  if (type.startsWith('WINDOWS-')) throw new Refusal(key, `${raw}: the Windows certificate store has no counterpart here: export the key and certificates to a PKCS#12 file`);
  throw new Refusal(key, `${raw}: not a store type nest-mtls reads (JKS, PKCS12, or PEM)`);
}

/** needClientAuth and wantClientAuth, as Jetty combines them (need wins), in our one option. */
function clientAuth(f: Fields, set: (option: keyof MtlsOptions, value: unknown) => void, notes: string[]): void {
  const need = f.bool('needClientAuth');
  const want = f.bool('wantClientAuth');
  if (need) {
    set('needClientAuth', true);
    if (want) notes.push('wantClientAuth: true adds nothing to needClientAuth: true (in Jetty, need wins)');
  } else if (want) {
    set('needClientAuth', false);
    notes.push('wantClientAuth: true is want mode here, MTLS_NEED_CLIENT_AUTH=false: a certificate is requested, not demanded; routes with @RequireClientCert answer 403 to callers without one');
  } else {
    set('needClientAuth', false);
    notes.push(
      `${need === false ? 'needClientAuth: false' : 'needClientAuth'}${want === false ? ', wantClientAuth: false' : ''}: Dropwizard asks for no client certificate here; nest-mtls always asks, and MTLS_NEED_CLIENT_AUTH=false is the closest (a certificate is requested, not demanded; routes with @RequireClientCert refuse callers without one)`,
    );
  }
}

/** supportedProtocols less excludedProtocols (Java regexes, Dropwizard's default `SSL.*`, `TLSv1`, `TLSv1\.1`), within TLS 1.2 and 1.3. */
function protocols(f: Fields, set: (option: keyof MtlsOptions, value: unknown) => void, notes: string[]): void {
  const supported = f.list('supportedProtocols');
  const excluded = (f.list('excludedProtocols') ?? ['SSL.*', 'TLSv1', 'TLSv1\\.1']).map((p) => wholeMatch(p, 'excludedProtocols'));
  const wanted = supported ?? OUR_PROTOCOLS;
  const left = wanted.filter((p) => !excluded.some((re) => re.test(p)));
  const ours = left.filter((p) => OUR_PROTOCOLS.some((o) => o.toLowerCase() === p.toLowerCase()));
  const old = left.filter((p) => !ours.includes(p));
  if (ours.length === 0) {
    throw new Refusal(supported ? 'supportedProtocols' : 'excludedProtocols', `leaves no protocol nest-mtls speaks (${OUR_PROTOCOLS.join(', ')})`);
  }
  if (old.length > 0) notes.push(`supportedProtocols: ${old.join(', ')} left out: nest-mtls speaks TLS 1.2 and 1.3 only (Java 17 turns TLS 1.1 and older off too)`);
  const removed = wanted.filter((p) => !left.includes(p) && OUR_PROTOCOLS.includes(p));
  if (removed.length > 0 && f.has('excludedProtocols')) notes.push(`excludedProtocols: applied: ${removed.join(', ')} left out`);
  if (supported || ours.length !== OUR_PROTOCOLS.length) set('supportedProtocols', ours);
}

/**
 * supportedCipherSuites less the exclusions (the YAML's excludedCipherSuites,
 * or Jetty's defaults), as Jetty selects them. Jetty also takes patterns in
 * supportedCipherSuites; nest-mtls takes names.
 */
function cipherSuites(f: Fields, set: (option: keyof MtlsOptions, value: unknown) => void, notes: string[]): void {
  const supported = f.list('supportedCipherSuites');
  const given = f.list('excludedCipherSuites');
  if (!supported) {
    throw new Refusal('excludedCipherSuites', "nest-mtls takes the suites to allow, not patterns to leave out of the JVM's list: list them in supportedCipherSuites (then migrate applies these exclusions)");
  }
  const pattern = supported.find((s) => /[.*+?()[\]{}|\\^$]/.test(s));
  if (pattern) throw new Refusal('supportedCipherSuites', `"${pattern}" is a pattern: nest-mtls takes suite names: list them`);
  const exclusions = (given ?? JETTY_EXCLUDED_CIPHER_SUITES).map((p) => ({ source: p, re: wholeMatch(p, 'excludedCipherSuites') }));
  const left = supported.filter((s) => !exclusions.some((e) => e.re.test(s)));
  const removed = supported.filter((s) => !left.includes(s));
  if (left.length === 0) throw new Refusal('supportedCipherSuites', `every suite is excluded by ${given ? 'excludedCipherSuites' : "Jetty's default exclusions"}: Dropwizard could not have served it`);
  if (removed.length > 0) notes.push(`supportedCipherSuites: ${removed.join(', ')} left out, as Dropwizard did (${given ? 'excludedCipherSuites' : `Jetty's default exclusions ${JETTY_EXCLUDED_CIPHER_SUITES.join(' ')}`})`);
  set('supportedCipherSuites', left);
}
