/**
 * Key and trust stores made by the real tools (openssl CLI, Java keytool), for
 * the tests whose point is reading what those tools write: root CA ->
 * intermediate CA -> leaves (RSA and EC P-256), PEM (plain and encrypted),
 * PKCS#12 (default AES, -legacy, with/without -name), JKS (RSA, EC, two
 * entries, trust-only), keytool's default PKCS#12 written to keystore.jks,
 * JCEKS, and CRLs. Certificates made by our own generator come from TestPki.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JVM_LAUNCHER_FLAGS } from './jvm-flags';
import { runTool, runToolOk } from './openssl-cli';
import { sharedPkiDir } from './shared-pki';
import { TempDir } from './temp-dir';

export const PW = 'Pw-9f3kQ!x'; // store password: asserted never to appear in messages
export const KEY_PW = 'Kp-7zT2mW'; // PEM key passphrase

/** Runs Java's keytool (without JAVA_TOOL_OPTIONS: "Picked up ..." noise, surprises); stdout + stderr, or an error when it fails. */
export const keytool = (args: string[], cwd?: string): string => runToolOk('keytool', [...JVM_LAUNCHER_FLAGS, ...args], { cwd, env: { ...process.env, JAVA_TOOL_OPTIONS: undefined } });

/** True when `keytool` runs here (the stores then include the JKS files; tests that need them ask requireTool). */
const hasKeytool = (): boolean => runTool('keytool', [...JVM_LAUNCHER_FLAGS, '-help'], { env: { ...process.env, JAVA_TOOL_OPTIONS: undefined } }).status === 0;

/** The stores: file names as in `buildToolMadeStores`, read with `path(name)` / `read(name)`. */
export class ToolMadeStores extends TempDir {
  /** Whether the JKS/JCEKS files (keytool) were made. */
  keytool = false;
  /** Whether `openssl pkcs12 -legacy` works here (legacy provider present), so rsa-legacy.p12 and ec-legacy.p12 exist. */
  legacy = false;
}

/** True when `openssl pkcs12 -legacy` works (legacy provider present). */
function legacyWorks(o: (...args: string[]) => string): boolean {
  try {
    o('pkcs12', '-export', '-legacy', '-in', 'rsa-leaf.pem', '-inkey', 'rsa-leaf.key', '-passout', `pass:${PW}`, '-out', 'probe-legacy.p12');
    return true;
  } catch {
    return false;
  }
}

const CA_EXT = `[req]
distinguished_name=dn
[dn]
[v3_ca]
basicConstraints=critical,CA:true
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[v3_server]
basicConstraints=critical,CA:false
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[v3_client]
basicConstraints=critical,CA:false
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
`;

/** An `openssl ca` configuration for CA `name` (its own index and CRL number), for -gencrl and -revoke. */
function caConf(stores: TempDir, name: string): string {
  const database = stores.write(`${name}-index.txt`, '');
  const crlnumber = stores.write(`${name}-crlnumber`, '01\n');
  stores.write(`${name}-ca.cnf`, `[ca]\ndefault_ca=CA_default\n[CA_default]\ndatabase=${database}\ncrlnumber=${crlnumber}\ndefault_md=sha256\ndefault_crl_days=30\n`);
  return `${name}-ca.cnf`;
}

/** What a copy needs besides the files. */
interface SharedStoresMeta {
  keytool: boolean;
  legacy: boolean;
}

const SHARED = 'tool-made-stores';
const META = 'meta.json';

/**
 * The stores, in a directory of the caller's own. Under jest.config.js they are built once per run (about seven
 * seconds of CPU: some thirty openssl runs and a JVM per keytool run) and copied for every later caller, as the
 * shared test PKI is (shared-pki.ts); the first caller builds them while the others wait. Everything, JKS included
 * when keytool runs here, is in the shared set: `jks: false` only matters outside a Jest run.
 */
export function buildToolMadeStores(options: { jks?: boolean } = {}): ToolMadeStores {
  const runDir = sharedPkiDir();
  if (!runDir) return makeToolMadeStores(options);
  const shared = join(runDir, SHARED);
  const lock = `${shared}.lock`;
  let building = false;
  try {
    mkdirSync(lock);
    building = true;
  } catch {
    // Another worker builds them: wait for its copy (three minutes at most, or until it gives up: then build our own).
    const deadline = Date.now() + 180_000;
    while (!existsSync(join(shared, META)) && existsSync(lock) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
  if (!building && existsSync(join(shared, META))) {
    const stores = new ToolMadeStores('mtls-material-');
    for (const name of readdirSync(shared)) if (name !== META) copyFileSync(join(shared, name), stores.path(name));
    Object.assign(stores, JSON.parse(readFileSync(join(shared, META), 'utf8')) as SharedStoresMeta);
    return stores;
  }
  let stores: ToolMadeStores;
  try {
    stores = makeToolMadeStores({ jks: true });
  } catch (err) {
    // Waiters would wait out their three minutes for stores that will not come: let them try themselves.
    if (building) rmSync(lock, { recursive: true, force: true });
    throw err;
  }
  if (building) {
    // Staged, then renamed: a waiter never sees half the files.
    const staging = `${shared}.${process.pid}`;
    mkdirSync(staging);
    for (const name of readdirSync(stores.dir)) copyFileSync(stores.path(name), join(staging, name));
    writeFileSync(join(staging, META), JSON.stringify({ keytool: stores.keytool, legacy: stores.legacy } satisfies SharedStoresMeta));
    renameSync(staging, shared);
  }
  return stores;
}

/** Builds the stores; with `jks: false`, no keytool stores (each keytool run starts a JVM). Takes a few seconds. */
function makeToolMadeStores(options: { jks?: boolean }): ToolMadeStores {
  const stores = new ToolMadeStores('mtls-material-');
  const dir = stores.dir;
  const o = (...args: string[]) => runToolOk('openssl', args, { cwd: dir });
  const kt = (...args: string[]) => keytool(args, dir);
  stores.write('ext.cnf', CA_EXT);

  // Root and intermediate CAs (RSA).
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-subj', '/O=Test/CN=Test Root CA', '-days', '30',
    '-config', 'ext.cnf', '-extensions', 'v3_ca');
  o('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/O=Test/CN=Test Intermediate CA');
  o('x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '100', '-days', '20', '-extfile', 'ext.cnf', '-extensions', 'v3_ca', '-out', 'int.pem');

  // Leaves: RSA server, EC server, EC client, and an unrelated key.
  const leaf = (name: string, keyArgs: string[], cn: string, ext: string, serial: string) => {
    o('genpkey', ...keyArgs, '-out', `${name}.key`);
    o('req', '-new', '-key', `${name}.key`, '-subj', `/O=Test/CN=${cn}`, '-out', `${name}.csr`);
    o('x509', '-req', '-in', `${name}.csr`, '-CA', 'int.pem', '-CAkey', 'int.key', '-set_serial', serial, '-days', '10', '-extfile', 'ext.cnf', '-extensions', ext, '-out', `${name}.pem`);
  };
  const EC = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  leaf('rsa-leaf', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], 'rsa-server', 'v3_server', '201');
  leaf('ec-leaf', EC, 'ec-server', 'v3_server', '202');
  leaf('client', EC, 'home-page-service', 'v3_client', '203');
  o('genpkey', ...EC, '-out', 'other.key');
  o('req', '-x509', '-key', 'other.key', '-subj', '/CN=stranger', '-days', '2', '-config', 'ext.cnf', '-out', 'stranger.pem');

  const cat = (out: string, ...files: string[]) => stores.write(out, files.map((f) => stores.read(f)).join(''));
  cat('cas.pem', 'int.pem', 'root.pem');
  cat('rsa-chain.pem', 'rsa-leaf.pem', 'int.pem');
  cat('ec-chain.pem', 'ec-leaf.pem', 'int.pem');
  cat('ec-chain-reversed.pem', 'root.pem', 'int.pem', 'ec-leaf.pem');
  cat('ec-bundle.pem', 'ec-leaf.key', 'ec-leaf.pem', 'int.pem', 'root.pem'); // PEM key store: key + chain
  cat('trust-mixed.pem', 'root.pem', 'client.pem'); // a non-CA among the CAs

  // PEM key encodings: PKCS#1, SEC1, encrypted PKCS#8, legacy Proc-Type.
  o('pkey', '-in', 'rsa-leaf.key', '-traditional', '-out', 'rsa-leaf.pkcs1.key');
  o('ec', '-in', 'ec-leaf.key', '-out', 'ec-leaf.sec1.key');
  o('pkey', '-in', 'ec-leaf.key', '-aes256', '-passout', `pass:${KEY_PW}`, '-out', 'ec-leaf.enc8.key');
  o('rsa', '-in', 'rsa-leaf.key', '-traditional', '-aes128', '-passout', `pass:${KEY_PW}`, '-out', 'rsa-leaf.legacy-enc.key');
  o('ec', '-in', 'ec-leaf.key', '-aes128', '-passout', `pass:${KEY_PW}`, '-out', 'ec-leaf.legacy-enc.key');

  // PKCS#12 by openssl: default (PBES2/AES), with/without -name.
  o('pkcs12', '-export', '-in', 'rsa-leaf.pem', '-inkey', 'rsa-leaf.key', '-certfile', 'cas.pem', '-name', 'rsa-server', '-passout', `pass:${PW}`, '-out', 'rsa.p12');
  o('pkcs12', '-export', '-in', 'ec-leaf.pem', '-inkey', 'ec-leaf.key', '-certfile', 'cas.pem', '-name', 'ec-server', '-passout', `pass:${PW}`, '-out', 'ec.p12');
  o('pkcs12', '-export', '-in', 'ec-leaf.pem', '-inkey', 'ec-leaf.key', '-certfile', 'cas.pem', '-passout', `pass:${PW}`, '-out', 'ec-noname.p12');
  o('pkcs12', '-export', '-in', 'client.pem', '-inkey', 'client.key', '-certfile', 'cas.pem', '-name', 'client', '-passout', `pass:${PW}`, '-out', 'client.p12');
  o('pkcs12', '-export', '-in', 'ec-leaf.pem', '-inkey', 'ec-leaf.key', '-certfile', 'cas.pem', '-name', 'nopw', '-passout', 'pass:', '-out', 'ec-emptypw.p12');
  o('pkcs12', '-export', '-nokeys', '-in', 'cas.pem', '-passout', `pass:${PW}`, '-out', 'trust.p12');
  // A key stored with someone else's certificate.
  o('pkcs12', '-export', '-inkey', 'other.key', '-nocerts', '-certfile', 'ec-leaf.pem', '-passout', `pass:${PW}`, '-out', 'mismatch.p12');
  stores.legacy = legacyWorks(o);
  if (stores.legacy) {
    o('pkcs12', '-export', '-legacy', '-in', 'rsa-leaf.pem', '-inkey', 'rsa-leaf.key', '-certfile', 'cas.pem', '-name', 'rsa-legacy', '-passout', `pass:${PW}`, '-out', 'rsa-legacy.p12');
    o('pkcs12', '-export', '-legacy', '-in', 'ec-leaf.pem', '-inkey', 'ec-leaf.key', '-certfile', 'cas.pem', '-name', 'ec-legacy', '-passout', `pass:${PW}`, '-out', 'ec-legacy.p12');
  }

  // CRLs: one per CA (root signs the intermediate's status, intermediate the leaves').
  o('ca', '-gencrl', '-config', caConf(stores, 'root'), '-keyfile', 'root.key', '-cert', 'root.pem', '-out', 'root.crl');
  o('ca', '-gencrl', '-config', caConf(stores, 'int'), '-keyfile', 'int.key', '-cert', 'int.pem', '-out', 'int.crl');
  cat('crls.pem', 'root.crl', 'int.crl');
  o('ca', '-revoke', 'client.pem', '-config', 'int-ca.cnf', '-keyfile', 'int.key', '-cert', 'int.pem');
  o('ca', '-gencrl', '-config', 'int-ca.cnf', '-keyfile', 'int.key', '-cert', 'int.pem', '-out', 'int-revoked.crl');
  cat('crls-client-revoked.pem', 'root.crl', 'int-revoked.crl');
  o('crl', '-in', 'int.crl', '-outform', 'DER', '-out', 'int.crl.der');

  stores.keytool = options.jks !== false && hasKeytool();
  if (stores.keytool) {
    const toStore = (src: string, dest: string, type: string | undefined, keyPass = PW) =>
      kt('-importkeystore', '-noprompt', '-srckeystore', src, '-srcstoretype', 'PKCS12', '-srcstorepass', PW,
        '-destkeystore', dest, ...(type ? ['-deststoretype', type] : []), '-deststorepass', PW, '-destkeypass', keyPass);
    toStore('rsa.p12', 'rsa.jks', 'JKS');
    toStore('ec.p12', 'ec.jks', 'JKS');
    toStore('client.p12', 'client.jks', 'JKS');
    toStore('rsa.p12', 'two.jks', 'JKS');
    toStore('ec.p12', 'two.jks', 'JKS');
    toStore('rsa.p12', 'two.p12', 'PKCS12');
    toStore('ec.p12', 'two.p12', 'PKCS12');
    toStore('ec.p12', 'keystore.jks', undefined); // Java 17 default: PKCS12 content in a .jks file
    toStore('ec.p12', 'ec.jceks', 'JCEKS');
    toStore('ec.p12', 'keypass.jks', 'JKS', `${PW}-key`); // key password != store password
    kt('-importcert', '-noprompt', '-alias', 'root', '-file', 'root.pem', '-keystore', 'trust.jks', '-storetype', 'JKS', '-storepass', PW);
    kt('-importcert', '-noprompt', '-alias', 'intermediate', '-file', 'int.pem', '-keystore', 'trust.jks', '-storetype', 'JKS', '-storepass', PW);
    kt('-importcert', '-noprompt', '-alias', 'root', '-file', 'root.pem', '-keystore', 'trust-keytool.p12', '-storetype', 'PKCS12', '-storepass', PW);
  }
  return stores;
}
