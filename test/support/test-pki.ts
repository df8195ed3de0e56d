/**
 * The one place tests get certificates from.
 *
 * - `TestPki`: certificates from our own generator (`nest-mtls/testing`),
 *   written to a temp dir: the article's PKI with its troublemakers, one more
 *   named certificate in one line (`pki.issue`, `pki.selfSigned`), CRLs,
 *   JKS stores written by keytool (`pki.jks`, `pki.jksTrustStore`).
 * - `buildToolMadeStores`: key and trust stores written by openssl and
 *   keytool, for tests about reading what those tools write.
 * - `opensslSelfSigned`, `opensslNames`: certificates made and names printed
 *   by the openssl CLI, for differential tests.
 * - `TempDir`: a directory of files that `cleanup()` removes.
 */
import {
  createCrl,
  createIntermediateCa,
  createRootCa,
  issueCertificate,
  nameFromRfc4514,
  randomSerialNumber,
  toPkcs12,
  type CertificateSpec,
  type CrlOptions,
  type IssuedCertificate,
} from 'nest-mtls/testing';
import type { MtlsOptions } from 'nest-mtls';
import { generateKeyPair, importSigningKey, x509 } from 'nest-mtls/internal';
import { X509Certificate } from 'node:crypto';
import { tlv } from './der';
import { loadSharedPki, saveSharedPki, sharedPkiDir } from './shared-pki';
import { TempDir } from './temp-dir';
import { keytool } from './tool-made-stores';

export { TempDir } from './temp-dir';
export { fixedOpensslEnv, openssl, opensslNames, opensslOk, opensslSelfSigned, opensslSubject, type OpensslCertOptions } from './openssl-cli';
export { buildToolMadeStores, keytool, KEY_PW, PW, ToolMadeStores } from './tool-made-stores';

/** Files of one certificate written by the test PKI. */
export interface CertFiles {
  issued: IssuedCertificate;
  cert: string;
  key: string;
  /** leaf + intermediates, no root */
  chain: string;
  /** PKCS#12 with the key and the chain, alias = the name, password `PASSWORD` */
  p12: string;
}

export const PASSWORD = 'test-pass';

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const LOCAL = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] };
/** The SPIFFE ID the development PKI gives a service, as the demo's certificates carry it. */
export const spiffe = (service: string) => `spiffe://example.org/${service}`;

/**
 * A PKI made at test time, like the article's: root CA -> global CA -> service
 * certificates, plus the troublemakers (untrusted CA, expired, wrong EKU,
 * revoked, a CN that smuggles ",O=Example"), each under its name in `certs`.
 */
export class TestPki extends TempDir {
  root!: IssuedCertificate;
  global!: IssuedCertificate;
  /** A root nobody trusts, and its intermediate: `pki.issue(name, spec, pki.otherGlobal)` for an untrusted certificate. */
  otherRoot!: IssuedCertificate;
  otherGlobal!: IssuedCertificate;
  /** PEM file holding only our root. */
  trustStore!: string;
  /** CRLs of both CAs; the global CA's revokes `certs.revoked`. */
  crlAll!: string;
  crlRootOnly!: string;
  /** As crlAll, but the global CA's CRL is past its nextUpdate. */
  crlExpired!: string;
  readonly certs: Record<string, CertFiles> = {};

  /**
   * The PKI in a fresh temp dir of its own (files that a test may change or
   * delete). Under jest.config.js the keys and certificates are made once per
   * run (test/support/shared-pki.ts) and copied here, so every TestPki of a
   * run has the same CAs and named certificates; `{ fresh: true }` makes new
   * ones (new keys, new serials) for a test that needs a PKI nobody else has.
   */
  static async create(options: { fresh?: boolean } = {}): Promise<TestPki> {
    const pki = new TestPki('nest-mtls-test-');
    const shared = options.fresh ? undefined : sharedPkiDir();
    if (shared && loadSharedPki(shared, pki)) return pki;
    await pki.build();
    if (shared) saveSharedPki(shared, pki);
    return pki;
  }

  private async build(): Promise<void> {
    this.root = await createRootCa({ subject: 'CN=Test Root CA,O=nest-mtls test' });
    this.global = await createIntermediateCa(this.root, { subject: 'CN=Test Global CA,O=nest-mtls test' });
    this.otherRoot = await createRootCa({ subject: 'CN=Other Root CA,O=elsewhere' });
    this.otherGlobal = await createIntermediateCa(this.otherRoot, { subject: 'CN=Other Global CA,O=elsewhere' });
    this.trustStore = this.write('truststore.pem', this.root.certPem);

    await Promise.all([
      this.issue('user-service', { subject: 'CN=user-service,O=nest-mtls', uri: [spiffe('user-service')], ...LOCAL }),
      this.issue('home-page-service', { subject: 'CN=home-page-service,O=nest-mtls', uri: [spiffe('home-page-service')], ...LOCAL }),
      this.issue('event-service', { subject: 'CN=event-service,O=nest-mtls', uri: [spiffe('event-service')], ...LOCAL }),
      this.issue('home-page-service-evil', { subject: 'CN=home-page-service-evil,O=nest-mtls', uri: [spiffe('home-page-service-evil')] }),
      this.issue('smuggler', { subject: 'CN=api\\,O=Example' }),
      this.issue('api-example', { subject: 'CN=api,O=Example' }),
      this.issue('spiffe', { subject: 'CN=workload', uri: ['spiffe://example.org/ns/prod/sa/home'] }),
      this.issue('expired', { subject: 'CN=home-page-service,O=nest-mtls', notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }),
      this.issue('server-only-eku', { subject: 'CN=home-page-service,O=nest-mtls', extendedKeyUsage: ['serverAuth'] }),
      this.issue('client-only-eku', { subject: 'CN=user-service,O=nest-mtls', extendedKeyUsage: ['clientAuth'], ...LOCAL }),
      this.issue('revoked', { subject: 'CN=home-page-service,O=nest-mtls' }),
      this.issue('untrusted', { subject: 'CN=home-page-service,O=nest-mtls', ...LOCAL }, this.otherGlobal),
      this.issue('rsa-user-service', { subject: 'CN=user-service,O=nest-mtls', keyAlgorithm: 'rsa', ...LOCAL }),
    ]);

    const revoked = [{ serialNumber: this.certs.revoked.issued.certificate.serialNumber }];
    this.crlAll = await this.writeCrls('crl.pem', [this.root], [this.global, { revoked }]);
    this.crlRootOnly = await this.writeCrls('crl-root-only.pem', [this.root]);
    this.crlExpired = await this.writeCrls('crl-expired.pem', [this.root], [this.global, { revoked, thisUpdate: new Date(Date.now() - 10 * DAY), nextUpdate: new Date(Date.now() - DAY) }]);
  }

  /** Issues one more certificate from the global CA (or `issuer`), writes its files and keeps them as `certs[name]`. */
  async issue(name: string, spec: CertificateSpec, issuer: IssuedCertificate = this.global): Promise<CertFiles> {
    return this.keep(name, await issueCertificate(issuer, spec));
  }

  /**
   * A self-signed end-entity certificate (CA:false, digitalSignature, the
   * spec's EKU, default both, and its DNS, IP and URI SANs) that no trust store holds: what
   * anyone can mint with the name they want. Kept as `certs[name]`.
   */
  async selfSigned(name: string, spec: CertificateSpec): Promise<CertFiles> {
    const pair = await generateKeyPair(spec.keyAlgorithm ?? 'ec', spec.modulusLength);
    const signer = await importSigningKey(pair.key);
    const subject = nameFromRfc4514(spec.subject);
    const eku = spec.extendedKeyUsage ?? ['serverAuth', 'clientAuth'];
    // GeneralNames written directly (dNSName [2], URI [6]): SubjectAlternativeNameExtension takes seconds for thousands of names.
    const sans = [
      ...(spec.dns ?? []).map((dns) => tlv(0x82, Buffer.from(dns, 'ascii'))),
      ...(spec.ip ?? []).map((ip) => Buffer.from(new x509.GeneralName('ip', ip).rawData)),
      ...(spec.uri ?? []).map((uri) => tlv(0x86, Buffer.from(uri, 'ascii'))),
    ];
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerialNumber(),
      subject,
      issuer: subject,
      notBefore: spec.notBefore ?? new Date(Date.now() - HOUR),
      notAfter: spec.notAfter ?? new Date(Date.now() + DAY),
      publicKey: pair.keys.publicKey,
      signingKey: signer.signingKey,
      signingAlgorithm: signer.signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        ...(eku.length ? [new x509.ExtendedKeyUsageExtension(eku.map((usage) => x509.ExtendedKeyUsage[usage]))] : []),
        ...(sans.length ? [new x509.Extension('2.5.29.17', false, tlv(0x30, Buffer.concat(sans)))] : []),
      ],
    });
    const certPem = cert.toString('pem') + '\n';
    const certificate = new X509Certificate(certPem);
    return this.keep(name, { certificate, certPem, key: pair.key, keyPem: pair.keyPem, chain: [certificate], chainPem: certPem });
  }

  /** Writes a PEM file of CRLs, one per `[issuer, options]` (as `createCrl` takes them), and returns its path. */
  async writeCrls(name: string, ...crls: [IssuedCertificate, CrlOptions?][]): Promise<string> {
    const pems = await Promise.all(crls.map(([issuer, options]) => createCrl(issuer, options)));
    return this.write(name, pems.join(''));
  }

  /** `name`'s key and chain in a JKS key store written by keytool, under `alias`; store and key password `password`. */
  jks(name: string, password: string, alias = name): string {
    const out = this.path(`${name}.jks`);
    keytool(['-importkeystore', '-noprompt', '-srckeystore', this.certs[name].p12, '-srcstoretype', 'PKCS12', '-srcstorepass', PASSWORD, '-srcalias', name,
      '-destkeystore', out, '-deststoretype', 'JKS', '-deststorepass', password, '-destkeypass', password, '-destalias', alias]);
    return out;
  }

  /** Our root in a JKS trust store written by keytool (alias root). */
  jksTrustStore(password: string): string {
    const out = this.path('truststore.jks');
    keytool(['-importcert', '-noprompt', '-alias', 'root', '-file', this.trustStore, '-keystore', out, '-storetype', 'JKS', '-storepass', password]);
    return out;
  }

  /** MtlsModule options serving `name`'s certificate from split PEM files (cert-manager's tls.crt/tls.key), trusting our root. */
  pemOptions(name = 'user-service', extra: Partial<MtlsOptions> = {}): MtlsOptions {
    return { certPath: this.certs[name].chain, keyPath: this.certs[name].key, trustStorePath: this.trustStore, ...extra };
  }

  /** Options for `tls.connect`/`https.request` presenting `name`'s certificate and trusting our root. */
  clientTls(name?: string): { key?: string; cert?: string; ca: string } {
    if (!name) return { ca: this.root.certPem };
    const c = this.certs[name].issued;
    return { key: c.keyPem, cert: c.chainPem, ca: this.root.certPem };
  }

  private async keep(name: string, issued: IssuedCertificate): Promise<CertFiles> {
    const files: CertFiles = {
      issued,
      cert: this.write(`${name}.crt`, issued.certPem),
      key: this.write(`${name}.key`, issued.keyPem),
      chain: this.write(`${name}.chain.pem`, issued.chainPem),
      p12: this.write(`${name}.p12`, await toPkcs12(issued, PASSWORD, { alias: name })),
    };
    this.certs[name] = files;
    return files;
  }
}
