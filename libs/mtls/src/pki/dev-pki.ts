import { randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createIntermediateCa, createRootCa, issueCertificate } from './certificate-factory';
import type { CertificateSpec, CrlReason, IssuedCertificate, KeyAlgorithm } from './certificate-spec.interface';
import { createCrl } from './crl-factory';
import { toPkcs12 } from './pkcs12-writer';
import { subjectDn } from '../identity/dn-format';

/** The services a dev PKI issues certificates for unless told otherwise (the demo services). */
export const DEFAULT_SERVICES: readonly string[] = ['user-service', 'home-page-service', 'event-service'];
/** Password of the PKCS#12 files unless told otherwise. */
export const DEFAULT_PKI_PASSWORD = 'changeit';
/** Subject of the dev PKI's root CA (the trust anchor in `truststore.pem`). */
export const ROOT_CA_SUBJECT = 'CN=nest-mtls Root CA,O=nest-mtls';
/** Subject of the dev PKI's intermediate CA, which issues the service certificates. */
export const GLOBAL_CA_SUBJECT = 'CN=nest-mtls Global CA,O=nest-mtls';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Dev CRLs live as long as dev leaf certificates: an expired CRL refuses every client. */
const CRL_VALIDITY_DAYS = 365;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const FILE = {
  rootCert: 'root-ca.crt',
  rootKey: 'root-ca.key',
  globalCert: 'global-ca.crt',
  globalKey: 'global-ca.key',
  trustStore: 'truststore.pem',
  crl: 'crl.pem',
  globalCrl: 'global-ca.crl',
  index: 'index.txt',
  revoked: 'revoked.json',
  meta: 'pki.json',
} as const;

/** The files of one service (leaf) certificate. */
export interface PkiFiles {
  /** NAME.crt: the leaf alone. */
  cert: string;
  /** NAME.key: its unencrypted PKCS#8 key (mode 0600). */
  key: string;
  /** NAME.chain.pem: leaf then the global CA (no root). */
  chain: string;
  /** NAME.p12: key + chain, alias NAME, the PKI's password. */
  p12: string;
}

/** Where everything of a dev PKI is (absolute paths). */
export interface PkiLayout {
  dir: string;
  /** truststore.pem: the root CA only. */
  trustStore: string;
  /** crl.pem: a CRL of the root and one of the global CA (with what `revokeInPki` revoked), concatenated: for `crlPath`. */
  crl: string;
  /** global-ca.crl: the global CA's CRL alone, DER: what a CRL distribution point serves. */
  globalCrl: string;
  /** index.txt: the global CA's certificates as an OpenSSL CA database, for `openssl ocsp -index`. */
  index: string;
  /** The URL put in the CRL Distribution Points of the certificates the global CA issues (`--crl-url`), if any. */
  crlUrl?: string;
  /** The OCSP responder URL put in their Authority Information Access (`--ocsp-url`), if any. */
  ocspUrl?: string;
  /** root-ca.crt */
  rootCa: string;
  /** root-ca.key */
  rootCaKey: string;
  /** global-ca.crt */
  globalCa: string;
  /** global-ca.key */
  globalCaKey: string;
  /** Password of the .p12 files. */
  password: string;
  /** Key algorithm of the CAs (and default of new leaves). */
  keyAlgorithm: KeyAlgorithm;
  /** Paths of a service's files (whether or not they exist). */
  service(name: string): PkiFiles;
}

/** Options of `initPki` (and `mtls pki init`). */
export interface InitPkiOptions {
  /** Default `'ec'`. */
  keyAlgorithm?: KeyAlgorithm;
  /** Default: user-service, home-page-service, event-service. */
  services?: string[];
  /** PKCS#12 password; default `changeit`. */
  password?: string;
  /** Replace an existing PKI in `dir`. */
  force?: boolean;
  /** A CRL distribution point URL for every certificate the global CA issues (serve `global-ca.crl` there). */
  crlUrl?: string;
  /** An OCSP responder URL for every certificate the global CA issues (e.g. `openssl ocsp -index index.txt ...`). */
  ocspUrl?: string;
}

/** What `issueIntoPki` makes: a spec plus the file name and (optionally) the .p12 password. */
export type PkiIssueSpec = CertificateSpec & {
  /** Base name of the files (NAME.crt, ...) and the PKCS#12 alias. */
  name: string;
  /** Default: the PKI's password. */
  password?: string;
};

/** What is recorded in pki.json, so later calls know the password and key type. */
interface PkiMeta {
  version: 1;
  keyAlgorithm: KeyAlgorithm;
  password: string;
  createdAt: string;
  crlUrl?: string;
  ocspUrl?: string;
}

/** One certificate revoked with `revokeInPki`, as recorded in revoked.json. */
interface RevokedRecord {
  serialNumber: string;
  subject: string;
  revokedAt: string;
  reason?: CrlReason;
}

/**
 * Creates a development PKI in `dir`: root CA -> "global" intermediate CA ->
 * one certificate per service (`CN=NAME,O=nest-mtls`, DNS NAME and localhost,
 * IP 127.0.0.1 and ::1, the SPIFFE ID `spiffe://example.org/NAME` as its one
 * URI SAN, serverAuth + clientAuth). Refuses to touch a
 * directory that already holds a PKI unless `force`.
 */
export async function initPki(dir: string, opts: InitPkiOptions = {}): Promise<PkiLayout> {
  const root = path.resolve(dir);
  const keyAlgorithm = opts.keyAlgorithm ?? 'ec';
  const password = opts.password ?? DEFAULT_PKI_PASSWORD;
  const services = opts.services ?? [...DEFAULT_SERVICES];
  if (keyAlgorithm !== 'ec' && keyAlgorithm !== 'rsa') throw new Error(`unknown key algorithm "${String(keyAlgorithm)}" (use ec or rsa)`);
  services.forEach(checkServiceName);
  if (new Set(services).size !== services.length) throw new Error(`duplicate service name in ${services.join(', ')}`);
  for (const [option, url] of [['crlUrl', opts.crlUrl], ['ocspUrl', opts.ocspUrl]] as const) {
    if (url !== undefined && !/^http:\/\/[^/\s]+/i.test(url)) throw new Error(`${option} must be an http:// URL (CRLs and OCSP answers are fetched over plain HTTP), got "${url}"`);
  }
  if (!opts.force) {
    const existing = [FILE.rootCert, FILE.globalCert, FILE.meta].find((f) => existsSync(path.join(root, f)));
    if (existing) throw new Error(`${root} already holds a PKI (${existing}); use force (--force) to replace it`);
  }
  await fs.mkdir(root, { recursive: true, mode: 0o700 });

  const rootCa = await createRootCa({ subject: ROOT_CA_SUBJECT, keyAlgorithm });
  const globalCa = await createIntermediateCa(rootCa, { subject: GLOBAL_CA_SUBJECT, keyAlgorithm });

  const meta: PkiMeta = {
    version: 1,
    keyAlgorithm,
    password,
    createdAt: new Date().toISOString(),
    ...(opts.crlUrl ? { crlUrl: opts.crlUrl } : {}),
    ...(opts.ocspUrl ? { ocspUrl: opts.ocspUrl } : {}),
  };
  await writeAtomic(path.join(root, FILE.rootKey), rootCa.keyPem, 0o600);
  await writeAtomic(path.join(root, FILE.rootCert), rootCa.certPem);
  await writeAtomic(path.join(root, FILE.globalKey), globalCa.keyPem, 0o600);
  await writeAtomic(path.join(root, FILE.globalCert), globalCa.certPem);
  await writeAtomic(path.join(root, FILE.trustStore), rootCa.certPem);
  await writeAtomic(path.join(root, FILE.revoked), '[]\n');
  await writeAtomic(path.join(root, FILE.index), '');
  await writeAtomic(path.join(root, FILE.meta), JSON.stringify(meta, null, 2) + '\n', 0o600);
  await writeCrls(root, rootCa, globalCa, [], CRL_VALIDITY_DAYS);

  const layout = layoutOf(root, meta);
  const leaves = await Promise.all(
    services.map(async (name) => {
      const leaf = await issueCertificate(globalCa, { ...serviceSpec(name, keyAlgorithm), ...revocationUrlsOf(meta) });
      await writeLeaf(layout.service(name), leaf, name, password);
      return leaf;
    }),
  );
  await writeAtomic(layout.index, leaves.map((leaf) => indexLine(leaf.certificate)).join(''));
  return layout;
}

/** What `revokeInPki` did. */
export interface RevokedInPki {
  serialNumber: string;
  subject: string;
  revokedAt: Date;
  /** The CRL files written again: crl.pem and global-ca.crl. */
  crl: string;
  globalCrl: string;
}

/**
 * Revokes a certificate the global CA of the PKI in `dir` issued: records it
 * (revoked.json, index.txt) and publishes new CRLs (crl.pem and
 * global-ca.crl), so that a service reading crl.pem, a CRL distribution point
 * serving global-ca.crl and `openssl ocsp -index index.txt` all know it.
 */
export async function revokeInPki(dir: string, cert: X509Certificate, opts: { reason?: CrlReason; date?: Date } = {}): Promise<RevokedInPki> {
  const layout = await openPki(dir);
  const globalCa = await loadIssuedCertificate(layout.globalCa, layout.globalCaKey);
  if (!cert.checkIssued(globalCa.certificate) || !cert.verify(globalCa.certificate.publicKey)) {
    throw new Error(`${subjectDn(cert)} (serial ${cert.serialNumber}) was not issued by the global CA of ${layout.dir}`);
  }
  const revoked = await readRevoked(layout.dir);
  const revokedAt = opts.date ?? new Date();
  if (!revoked.some((r) => r.serialNumber === cert.serialNumber)) {
    revoked.push({ serialNumber: cert.serialNumber, subject: subjectDn(cert), revokedAt: revokedAt.toISOString(), ...(opts.reason ? { reason: opts.reason } : {}) });
    await writeAtomic(path.join(layout.dir, FILE.revoked), JSON.stringify(revoked, null, 2) + '\n');
  }
  const index = existsSync(layout.index) ? await fs.readFile(layout.index, 'utf8') : '';
  const lines = index.split('\n').filter((l) => l.length > 0 && l.split('\t')[3] !== opensslSerial(cert.serialNumber));
  lines.push(indexLine(cert, revokedAt, opts.reason).trimEnd());
  await writeAtomic(layout.index, lines.join('\n') + '\n');
  await publishCrl(layout.dir);
  return { serialNumber: cert.serialNumber, subject: subjectDn(cert), revokedAt, crl: layout.crl, globalCrl: layout.globalCrl };
}

/**
 * Publishes fresh CRLs of the PKI in `dir`, valid `days` (default 365):
 * crl.pem (the root's and the global CA's, for crlPath) and global-ca.crl
 * (the global CA's alone, DER, for a CRL distribution point), listing every
 * certificate revoked with `revokeInPki`.
 */
export async function publishCrl(dir: string, opts: { days?: number } = {}): Promise<{ crl: string; globalCrl: string; revoked: number; nextUpdate: Date }> {
  const layout = await openPki(dir);
  const rootCa = await loadIssuedCertificate(layout.rootCa, layout.rootCaKey);
  const globalCa = await loadIssuedCertificate(layout.globalCa, layout.globalCaKey);
  const revoked = await readRevoked(layout.dir);
  const nextUpdate = await writeCrls(layout.dir, rootCa, globalCa, revoked, opts.days ?? CRL_VALIDITY_DAYS);
  return { crl: layout.crl, globalCrl: layout.globalCrl, revoked: revoked.length, nextUpdate };
}

async function writeCrls(dir: string, rootCa: IssuedCertificate, globalCa: IssuedCertificate, revoked: RevokedRecord[], days: number): Promise<Date> {
  const nextUpdate = new Date(Date.now() + days * DAY_MS);
  const entries = revoked.map((r) => ({ serialNumber: r.serialNumber, date: new Date(r.revokedAt), ...(r.reason ? { reason: r.reason } : {}) }));
  const globalPem = await createCrl(globalCa, { nextUpdate, revoked: entries });
  await writeAtomic(path.join(dir, FILE.crl), (await createCrl(rootCa, { nextUpdate })) + globalPem);
  await writeAtomic(path.join(dir, FILE.globalCrl), Buffer.from(globalPem.replace(/-----[A-Z0-9 ]+-----/g, ''), 'base64'));
  return nextUpdate;
}

async function readRevoked(dir: string): Promise<RevokedRecord[]> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, FILE.revoked), 'utf8')) as RevokedRecord[];
  } catch {
    return [];
  }
}

/** The CRLDP and AIA of the certificates the global CA issues, from pki.json. */
function revocationUrlsOf(meta: Pick<PkiMeta, 'crlUrl' | 'ocspUrl'>): Pick<CertificateSpec, 'crlDistributionPoints' | 'ocspUrls'> {
  return { ...(meta.crlUrl ? { crlDistributionPoints: [meta.crlUrl] } : {}), ...(meta.ocspUrl ? { ocspUrls: [meta.ocspUrl] } : {}) };
}

/** OpenSSL's spelling of a serial in index.txt: upper-case hex, an even number of digits. */
function opensslSerial(serial: string): string {
  const hex = serial.toUpperCase().replace(/^0+/, '') || '0';
  return hex.length % 2 ? `0${hex}` : hex;
}

/** `YYMMDDHHMMSSZ` */
function indexTime(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
}

const OPENSSL_REASON: Partial<Record<CrlReason, string>> = { cACompromise: 'CACompromise' };

/** One line of index.txt (OpenSSL's CA database): V(alid) or R(evoked). */
function indexLine(cert: X509Certificate, revokedAt?: Date, reason?: CrlReason): string {
  const expiry = indexTime(new Date(cert.validTo));
  const revoked = revokedAt ? indexTime(revokedAt) + (reason ? `,${OPENSSL_REASON[reason] ?? reason}` : '') : '';
  const subject = '/' + cert.subject.split('\n').join('/'); // Node's order is the encoded one, as OpenSSL's slash form
  return `${revokedAt ? 'R' : 'V'}\t${expiry}\t${revoked}\t${opensslSerial(cert.serialNumber)}\tunknown\t${subject}\n`;
}

/** One more leaf from the global CA of the PKI in `dir`, written as NAME.crt/.key/.chain.pem/.p12 (replacing any). */
export async function issueIntoPki(dir: string, spec: PkiIssueSpec): Promise<PkiFiles> {
  const layout = await openPki(dir);
  checkServiceName(spec.name);
  const { name, password, ...certSpec } = spec;
  const globalCa = await loadIssuedCertificate(layout.globalCa, layout.globalCaKey);
  const leaf = await issueCertificate(globalCa, { ...revocationUrlsOf(layout), ...certSpec, keyAlgorithm: certSpec.keyAlgorithm ?? layout.keyAlgorithm });
  const files = layout.service(name);
  await writeLeaf(files, leaf, name, password ?? layout.password);
  const index = existsSync(layout.index) ? await fs.readFile(layout.index, 'utf8') : '';
  await writeAtomic(layout.index, index + indexLine(leaf.certificate));
  return files;
}

/**
 * The dev PKI in `dir`, created (with the defaults) if missing. Safe when
 * several processes call it at once: each builds a PKI in a temporary
 * directory next to `dir` and renames it into place; the losers of the race
 * remove theirs and use the winner's.
 */
export async function ensureDevPki(dir: string): Promise<PkiLayout> {
  const root = path.resolve(dir);
  if (isCompletePki(root)) return openPki(root);
  if (existsSync(root) && (await fs.readdir(root)).length > 0) {
    throw new Error(`${root} exists but is not a complete dev PKI (missing ${missingFiles(root).join(', ')}); remove it or run \`mtls pki init ${root} --force\``);
  }
  await fs.mkdir(path.dirname(root), { recursive: true });
  const tmp = `${root}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await initPki(tmp);
    await fs.rename(tmp, root);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    if (!isCompletePki(root)) throw err;
  }
  return openPki(root);
}

/** The layout of an existing PKI (password and key type from its pki.json, defaults without one). */
export async function openPki(dir: string): Promise<PkiLayout> {
  const root = path.resolve(dir);
  const missing = missingFiles(root, [FILE.rootCert, FILE.globalCert, FILE.globalKey]);
  if (missing.length > 0) throw new Error(`${root} is not a dev PKI (missing ${missing.join(', ')}); create one with \`mtls pki init ${root}\``);
  let meta: Partial<PkiMeta> = {};
  try {
    meta = JSON.parse(await fs.readFile(path.join(root, FILE.meta), 'utf8')) as Partial<PkiMeta>;
  } catch {
    // A PKI made by hand has no pki.json: use the defaults.
  }
  return layoutOf(root, {
    version: 1,
    keyAlgorithm: meta.keyAlgorithm === 'rsa' ? 'rsa' : 'ec',
    password: typeof meta.password === 'string' ? meta.password : DEFAULT_PKI_PASSWORD,
    createdAt: meta.createdAt ?? '',
    ...(typeof meta.crlUrl === 'string' ? { crlUrl: meta.crlUrl } : {}),
    ...(typeof meta.ocspUrl === 'string' ? { ocspUrl: meta.ocspUrl } : {}),
  });
}

function layoutOf(root: string, meta: PkiMeta): PkiLayout {
  const p = (file: string) => path.join(root, file);
  return {
    dir: root,
    trustStore: p(FILE.trustStore),
    crl: p(FILE.crl),
    globalCrl: p(FILE.globalCrl),
    index: p(FILE.index),
    ...(meta.crlUrl ? { crlUrl: meta.crlUrl } : {}),
    ...(meta.ocspUrl ? { ocspUrl: meta.ocspUrl } : {}),
    rootCa: p(FILE.rootCert),
    rootCaKey: p(FILE.rootKey),
    globalCa: p(FILE.globalCert),
    globalCaKey: p(FILE.globalKey),
    password: meta.password,
    keyAlgorithm: meta.keyAlgorithm,
    service(name: string): PkiFiles {
      checkServiceName(name);
      return { cert: p(`${name}.crt`), key: p(`${name}.key`), chain: p(`${name}.chain.pem`), p12: p(`${name}.p12`) };
    },
  };
}

/** The trust domain of the development PKI's SPIFFE IDs. */
export const DEV_SPIFFE_TRUST_DOMAIN = 'example.org';

/** The SPIFFE ID the development PKI gives a service: `spiffe://example.org/NAME`. */
export function devSpiffeId(name: string): string {
  return `spiffe://${DEV_SPIFFE_TRUST_DOMAIN}/${name}`;
}

function serviceSpec(name: string, keyAlgorithm: KeyAlgorithm): CertificateSpec {
  return {
    subject: `CN=${name},O=nest-mtls`,
    dns: [name, 'localhost'],
    uri: [devSpiffeId(name)],
    ip: ['127.0.0.1', '::1'],
    extendedKeyUsage: ['serverAuth', 'clientAuth'],
    keyAlgorithm,
  };
}

async function writeLeaf(files: PkiFiles, leaf: IssuedCertificate, alias: string, password: string): Promise<void> {
  const p12 = await toPkcs12(leaf, password, { alias });
  await writeAtomic(files.key, leaf.keyPem, 0o600);
  await writeAtomic(files.cert, leaf.certPem);
  await writeAtomic(files.chain, leaf.chainPem);
  await writeAtomic(files.p12, p12, 0o600);
}

/** A certificate (PEM, chain allowed: first one is the certificate) and its key read back from files, e.g. a CA to issue or revoke with. */
export async function loadIssuedCertificate(certFile: string, keyFile: string): Promise<IssuedCertificate> {
  const certPem = await fs.readFile(certFile, 'utf8');
  const keyPem = await fs.readFile(keyFile, 'utf8');
  const pems: string[] = certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\s*/g) ?? [];
  if (pems.length === 0) throw new Error(`${certFile}: no PEM certificate in it`);
  const chain = pems.map((pem) => new X509Certificate(pem));
  const key = createPrivateKey(keyPem);
  if (!chain[0].checkPrivateKey(key)) throw new Error(`${keyFile} is not the key of ${certFile}`);
  const pkcs8 = key.export({ format: 'pem', type: 'pkcs8' }) as string;
  return { certificate: chain[0], certPem: pems[0], key, keyPem: pkcs8, chain, chainPem: pems.join('') };
}

/** Throws unless `name` is usable as a service (file) name: letters, digits, '.', '_', '-'. */
export function checkServiceName(name: string): void {
  if (!SERVICE_NAME.test(name)) {
    throw new Error(`invalid service name "${name}": use letters, digits, '.', '_' and '-' (it names files)`);
  }
}

const REQUIRED = [FILE.rootCert, FILE.rootKey, FILE.globalCert, FILE.globalKey, FILE.trustStore, FILE.crl];

function missingFiles(root: string, files: readonly string[] = REQUIRED): string[] {
  return files.filter((f) => !existsSync(path.join(root, f)));
}

function isCompletePki(root: string): boolean {
  return missingFiles(root).length === 0 && DEFAULT_SERVICES.every((s) => existsSync(path.join(root, `${s}.p12`)));
}

/** Readers (e.g. a server watching for reloads) never see a half-written file. */
async function writeAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, data, { mode });
    await fs.chmod(tmp, mode);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
