import * as x509 from '@peculiar/x509';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { MtlsPemMaterial } from '../config/pem-source.interface';
import { parseSpiffeId, spiffeIdProblem } from '../identity/spiffe-id';
import { subjectAltNames } from '../identity/subject-alt-names';
import { logSafe } from '../logging/log-safe';
import { keyMatches } from '../x509/certificate-chain';
import { DER, DerReader, derBytes } from '../x509/der-reader';
import { describeCert } from '../x509/trust-path';

/** One `X509SVID` message of the Workload API (workload.proto's field names, as @grpc/proto-loader gives them with `keepCase`). */
export interface X509SvidMessage {
  spiffe_id: string;
  /** DER certificates, concatenated, the SVID first. */
  x509_svid: Buffer;
  /** PKCS#8 DER, unencrypted. */
  x509_svid_key: Buffer;
  /** DER CA certificates of the SVID's trust domain, concatenated. */
  bundle: Buffer;
  hint?: string;
}

/** One `X509SVIDResponse` of the FetchX509SVID stream. */
export interface X509SvidResponse {
  svids: X509SvidMessage[];
  crl?: Buffer[];
  federated_bundles?: Record<string, Buffer>;
}

/** Which SVID to serve, and the trust domain it must be in. */
export interface SvidChoice {
  /** Serve the SVID of this SPIFFE ID; none offered is a refusal. Default: the first offered (as go-spiffe does). */
  spiffeId?: string;
  /** The trust domain the SVID must belong to (the one first served: a trust domain never changes under a running service). */
  trustDomain?: string;
}

/** An answer that passed: the material to serve, and what the answer held besides. */
export interface AcceptedSvid {
  spiffeId: string;
  trustDomain: string;
  /** Serial number of the SVID (upper-case hex, as Node prints it). */
  serial: string;
  material: MtlsPemMaterial;
  /** The trust domains of federated bundles the answer offered (never trusted; see the README). */
  federatedTrustDomains: string[];
  /** How many CRLs the answer carried (never used; see the README). */
  crls: number;
  /** The SPIFFE IDs of every SVID offered. */
  offered: string[];
}

/** Most SVIDs an answer is read for (an agent hands a workload a few, never thousands). */
const MAX_SVIDS = 100;

/**
 * Checks an answer of the Workload API as the X509-SVID standard and
 * go-spiffe's `x509svid.ParseRaw` do, and turns the SVID chosen into PEM
 * material: the SVID has exactly one URI SAN, a SPIFFE ID with a path, equal
 * to the message's `spiffe_id`; it is not a CA, may sign (digitalSignature)
 * and may not sign certificates or CRLs; the certificates after it are CAs;
 * its key is PKCS#8 and matches it; its bundle is not empty and holds only
 * CAs of its own trust domain (a CA naming another trust domain by its URI
 * SAN is refused); its trust domain is `choice.trustDomain` when given.
 * Whether the chain verifies to the bundle, validity and the EKU are the
 * material checks' business (MtlsModule runs them next, with the canary).
 * Returns why the answer is refused otherwise, one line, no key material.
 */
export function acceptX509SvidResponse(response: X509SvidResponse, choice: SvidChoice = {}): AcceptedSvid | string {
  const svids = Array.isArray(response?.svids) ? response.svids.slice(0, MAX_SVIDS) : [];
  if (svids.length === 0) return 'the answer holds no X509-SVID (does a registration entry match this workload?)';
  const offered = svids.map((s) => String(s?.spiffe_id ?? ''));
  const svid = choice.spiffeId === undefined ? svids[0] : svids.find((s) => s?.spiffe_id === choice.spiffeId);
  if (!svid) return `no X509-SVID for spiffeId ${choice.spiffeId}; the Workload API offers ${listed(offered)}`;
  const named = logSafe(String(svid.spiffe_id ?? ''), 200);
  const problem = (text: string) => `the X509-SVID ${named || '(no spiffe_id)'}: ${text}`;

  const chain = certificates(svid.x509_svid, 'x509_svid');
  if (typeof chain === 'string') return problem(chain);
  if (chain.length === 0) return problem('no certificate (x509_svid is empty)');
  const [leaf, ...signers] = chain;
  const uris = subjectAltNames(leaf).uri;
  if (uris.length !== 1) return problem(`not an X509-SVID: its certificate (${describeCert(leaf)}) has ${uris.length} URI SANs; an X509-SVID has exactly one, its SPIFFE ID`);
  const uriProblem = spiffeIdProblem(uris[0]);
  if (uriProblem) return problem(`not an X509-SVID: its URI SAN ${logSafe(uris[0], 200)} is not a SPIFFE ID (${uriProblem})`);
  const id = parseSpiffeId(uris[0])!;
  if (id.segments.length === 0) return problem(`not an X509-SVID: its SPIFFE ID ${uris[0]} names a trust domain, not a workload (no path)`);
  if (svid.spiffe_id !== uris[0]) return problem(`its certificate's SPIFFE ID is ${uris[0]}, not the one the answer names`);
  const leafProblem = leafUsageProblem(leaf);
  if (leafProblem) return problem(`not an X509-SVID: ${leafProblem}`);
  for (const signer of signers) {
    if (!signer.ca || !usages(signer).keyCertSign) return problem(`the certificate ${describeCert(signer)} after the SVID in x509_svid is not a CA that may sign certificates`);
  }

  const key = privateKey(svid.x509_svid_key);
  if (typeof key === 'string') return problem(key);
  if (!keyMatches(leaf, key)) return problem('its private key does not match its certificate');

  const bundle = certificates(svid.bundle, 'bundle');
  if (typeof bundle === 'string') return problem(bundle);
  if (bundle.length === 0) return problem(`no trust bundle (the CAs of trust domain ${id.trustDomain}): nothing to verify peers with`);
  for (const cert of [...signers, ...bundle]) {
    if (!cert.ca) return problem(`the bundle holds ${describeCert(cert)}, which is not a CA`);
    const other = spiffeTrustDomainOf(cert);
    if (other !== undefined && other !== id.trustDomain) {
      return problem(`its SPIFFE ID is outside the trust domain of its CA ${describeCert(cert)}, which is ${other}, not ${id.trustDomain}`);
    }
  }
  if (choice.trustDomain !== undefined && id.trustDomain !== choice.trustDomain) {
    return problem(`its SPIFFE ID is outside trust domain ${choice.trustDomain}, the trust domain served so far (a running service does not change trust domains: restart it to move)`);
  }

  const federated = Object.keys(response.federated_bundles ?? {}).map((k) => logSafe(k, 200)).sort();
  return {
    spiffeId: uris[0],
    trustDomain: id.trustDomain,
    serial: leaf.serialNumber.toUpperCase(),
    material: {
      key: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
      cert: chain.map((c) => c.toString()).join(''),
      ca: bundle.map((c) => c.toString()).join(''),
    },
    federatedTrustDomains: federated,
    crls: Array.isArray(response.crl) ? response.crl.length : 0,
    offered,
  };
}

/** DER certificates concatenated (as the Workload API sends chains and bundles), or why they are not. */
function certificates(der: unknown, field: string): X509Certificate[] | string {
  if (der === undefined || der === null) return [];
  if (!Buffer.isBuffer(der)) return `${field} is not bytes`;
  const out: X509Certificate[] = [];
  const reader = new DerReader(der);
  try {
    while (!reader.done) out.push(new X509Certificate(derBytes(der, reader.next(DER.SEQUENCE, field))));
  } catch (err) {
    return `${field} is not DER certificates one after another: ${logSafe((err as Error).message, 200)}`;
  }
  return out;
}

/** The PKCS#8 DER key of an SVID, or why it is not one. */
function privateKey(der: unknown): KeyObject | string {
  if (!Buffer.isBuffer(der) || der.length === 0) return 'no private key (x509_svid_key is empty)';
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    return 'its private key (x509_svid_key) is not an unencrypted PKCS#8 DER key';
  }
}

/** Key usages the X509-SVID standard rules on. */
function usages(cert: X509Certificate): { digitalSignature: boolean; keyCertSign: boolean; cRLSign: boolean } {
  const flags = new x509.X509Certificate(cert.raw).getExtension(x509.KeyUsagesExtension)?.usages ?? 0;
  return {
    digitalSignature: (flags & x509.KeyUsageFlags.digitalSignature) !== 0,
    keyCertSign: (flags & x509.KeyUsageFlags.keyCertSign) !== 0,
    cRLSign: (flags & x509.KeyUsageFlags.cRLSign) !== 0,
  };
}

/** Why a leaf is not an X509-SVID by its basic constraints and key usage, or undefined. */
function leafUsageProblem(leaf: X509Certificate): string | undefined {
  if (leaf.ca) return `its certificate (${describeCert(leaf)}) is a CA`;
  const ku = usages(leaf);
  if (!ku.digitalSignature) return `its certificate (${describeCert(leaf)}) lacks the digitalSignature key usage`;
  if (ku.keyCertSign || ku.cRLSign) return `its certificate (${describeCert(leaf)}) may sign certificates or CRLs (keyCertSign/cRLSign)`;
  return undefined;
}

/** The trust domain a CA names by a SPIFFE URI SAN (SPIRE's CAs carry `spiffe://<trust domain>`), if it names one. */
function spiffeTrustDomainOf(cert: X509Certificate): string | undefined {
  for (const uri of subjectAltNames(cert).uri) {
    const id = parseSpiffeId(uri);
    if (id) return id.trustDomain;
  }
  return undefined;
}

/** `a, b and 3 more` */
function listed(ids: string[]): string {
  const shown = ids.slice(0, 5).map((id) => logSafe(id || '(no spiffe_id)', 200));
  return ids.length > 5 ? `${shown.join(', ')} and ${ids.length - 5} more` : shown.join(', ');
}
