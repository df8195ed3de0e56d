/**
 * One test PKI per run. Generating it (four CAs, thirteen certificates, one
 * with an RSA key, their PKCS#12 files, three CRLs) takes over a second of
 * CPU; tests call `TestPki.create()` about a hundred times. So the first call
 * of a run writes what it made to the run's directory (made by
 * jest-global-setup.js, named by NEST_MTLS_TEST_PKI_CACHE) and every later
 * call copies the files into its own temp dir and reads the keys and
 * certificates back: each test still has files of its own to change.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IssuedCertificate } from 'nest-mtls/testing';
import type { CertFiles, TestPki } from './test-pki';

/** What is not in the files: the issued certificates and keys (PEM), and which file is which. */
interface Manifest {
  cas: Record<'root' | 'global' | 'otherRoot' | 'otherGlobal', IssuedPems>;
  certs: Record<string, IssuedPems & { files: Omit<CertFiles, 'issued'> }>;
  files: Record<'trustStore' | 'crlAll' | 'crlRootOnly' | 'crlExpired', string>;
}

interface IssuedPems {
  certPem: string;
  keyPem: string;
  chainPem: string;
}

const MANIFEST = 'manifest.json';
const BASE = 'pki';

/** The run's directory for the shared PKI, or undefined outside jest.config.js (then each TestPki makes its own). */
export function sharedPkiDir(): string | undefined {
  return process.env.NEST_MTLS_TEST_PKI_CACHE || undefined;
}

/** Copies the run's PKI into `pki` (its files into `pki.dir`); false when the run has none yet. */
export function loadSharedPki(runDir: string, pki: TestPki): boolean {
  const base = join(runDir, BASE);
  if (!existsSync(join(base, MANIFEST))) return false;
  const manifest = JSON.parse(readFileSync(join(base, MANIFEST), 'utf8')) as Manifest;
  for (const name of readdirSync(base)) if (name !== MANIFEST) copyFileSync(join(base, name), pki.path(name));
  pki.root = issued(manifest.cas.root);
  pki.global = issued(manifest.cas.global);
  pki.otherRoot = issued(manifest.cas.otherRoot);
  pki.otherGlobal = issued(manifest.cas.otherGlobal);
  pki.trustStore = pki.path(manifest.files.trustStore);
  pki.crlAll = pki.path(manifest.files.crlAll);
  pki.crlRootOnly = pki.path(manifest.files.crlRootOnly);
  pki.crlExpired = pki.path(manifest.files.crlExpired);
  for (const [name, { files, ...pems }] of Object.entries(manifest.certs)) {
    pki.certs[name] = { issued: issued(pems), cert: pki.path(files.cert), key: pki.path(files.key), chain: pki.path(files.chain), p12: pki.path(files.p12) };
  }
  return true;
}

/** Writes a freshly built `pki` as the run's PKI (unless another worker was first: then its PKI stays). */
export function saveSharedPki(runDir: string, pki: TestPki): void {
  const rel = (path: string) => path.slice(pki.dir.length + 1);
  const manifest: Manifest = {
    cas: { root: pems(pki.root), global: pems(pki.global), otherRoot: pems(pki.otherRoot), otherGlobal: pems(pki.otherGlobal) },
    certs: Object.fromEntries(
      Object.entries(pki.certs).map(([name, c]) => [name, { ...pems(c.issued), files: { cert: rel(c.cert), key: rel(c.key), chain: rel(c.chain), p12: rel(c.p12) } }]),
    ),
    files: { trustStore: rel(pki.trustStore), crlAll: rel(pki.crlAll), crlRootOnly: rel(pki.crlRootOnly), crlExpired: rel(pki.crlExpired) },
  };
  const staging = join(runDir, `${BASE}-${process.pid}-${Date.now()}`);
  mkdirSync(staging, { mode: 0o700 });
  for (const name of readdirSync(pki.dir)) copyFileSync(pki.path(name), join(staging, name));
  writeFileSync(join(staging, MANIFEST), JSON.stringify(manifest), { mode: 0o600 });
  try {
    renameSync(staging, join(runDir, BASE));
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another worker wrote the run's PKI first
  }
}

function pems(c: IssuedCertificate): IssuedPems {
  return { certPem: c.certPem, keyPem: c.keyPem, chainPem: c.chainPem };
}

function issued({ certPem, keyPem, chainPem }: IssuedPems): IssuedCertificate {
  const chain = (chainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? []).map((pem) => new X509Certificate(pem));
  return { certificate: new X509Certificate(certPem), certPem, key: createPrivateKey(keyPem), keyPem, chain, chainPem };
}
