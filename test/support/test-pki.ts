import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCrl,
  createIntermediateCa,
  createRootCa,
  issueCertificate,
  toPkcs12,
  type CertificateSpec,
  type IssuedCertificate,
} from 'nest-mtls/testing';
import type { MtlsOptions } from 'nest-mtls';

/** Files of one certificate written by the test PKI. */
export interface CertFiles {
  issued: IssuedCertificate;
  cert: string;
  key: string;
  /** leaf + intermediates, no root */
  chain: string;
  p12: string;
}

export const PASSWORD = 'test-pass';

const DAY = 24 * 3600 * 1000;
const LOCAL = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] };

/**
 * A PKI made at test time, like the article's: root CA -> global CA -> service
 * certificates, plus the troublemakers (untrusted CA, expired, wrong EKU,
 * revoked, a CN that smuggles ",O=Example").
 */
export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'nest-mtls-test-'));
  root!: IssuedCertificate;
  global!: IssuedCertificate;
  otherRoot!: IssuedCertificate;
  trustStore!: string;
  crlAll!: string;
  crlRootOnly!: string;
  crlExpired!: string;
  readonly certs: Record<string, CertFiles> = {};

  static async create(): Promise<TestPki> {
    const pki = new TestPki();
    await pki.build();
    return pki;
  }

  private async build(): Promise<void> {
    this.root = await createRootCa({ subject: 'CN=Test Root CA,O=nest-mtls test' });
    this.global = await createIntermediateCa(this.root, { subject: 'CN=Test Global CA,O=nest-mtls test' });
    this.otherRoot = await createRootCa({ subject: 'CN=Other Root CA,O=elsewhere' });
    const otherGlobal = await createIntermediateCa(this.otherRoot, { subject: 'CN=Other Global CA,O=elsewhere' });
    this.trustStore = this.write('truststore.pem', this.root.certPem);

    await this.issue('user-service', { subject: 'CN=user-service,O=nest-mtls', ...LOCAL });
    await this.issue('home-page-service', { subject: 'CN=home-page-service,O=nest-mtls', ...LOCAL });
    await this.issue('event-service', { subject: 'CN=event-service,O=nest-mtls', ...LOCAL });
    await this.issue('home-page-service-evil', { subject: 'CN=home-page-service-evil,O=nest-mtls' });
    await this.issue('smuggler', { subject: 'CN=api\\,O=Example' });
    await this.issue('api-example', { subject: 'CN=api,O=Example' });
    await this.issue('spiffe', { subject: 'CN=workload', uri: ['spiffe://example.org/ns/prod/sa/home'] });
    await this.issue('expired', { subject: 'CN=home-page-service,O=nest-mtls', notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    await this.issue('server-only-eku', { subject: 'CN=home-page-service,O=nest-mtls', extendedKeyUsage: ['serverAuth'] });
    await this.issue('client-only-eku', { subject: 'CN=user-service,O=nest-mtls', extendedKeyUsage: ['clientAuth'], ...LOCAL });
    await this.issue('revoked', { subject: 'CN=home-page-service,O=nest-mtls' });
    await this.issue('untrusted', { subject: 'CN=home-page-service,O=nest-mtls', ...LOCAL }, otherGlobal);
    await this.issue('rsa-user-service', { subject: 'CN=user-service,O=nest-mtls', keyAlgorithm: 'rsa', ...LOCAL });

    const revoked = [{ serialNumber: this.certs.revoked.issued.certificate.serialNumber }];
    const rootCrl = await createCrl(this.root);
    const globalCrl = await createCrl(this.global, { revoked });
    this.crlAll = this.write('crl.pem', rootCrl + globalCrl);
    this.crlRootOnly = this.write('crl-root-only.pem', rootCrl);
    const past = new Date(Date.now() - 10 * DAY);
    this.crlExpired = this.write(
      'crl-expired.pem',
      rootCrl + (await createCrl(this.global, { revoked, thisUpdate: past, nextUpdate: new Date(Date.now() - DAY) })),
    );
  }

  /** Issues one more certificate from the global CA (or `issuer`) and writes its files. */
  async issue(name: string, spec: CertificateSpec, issuer: IssuedCertificate = this.global): Promise<CertFiles> {
    const issued = await issueCertificate(issuer, spec);
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

  write(name: string, content: string | Buffer): string {
    const path = join(this.dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
