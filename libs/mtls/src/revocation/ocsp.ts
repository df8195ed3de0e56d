import { createHash, X509Certificate } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  BasicOCSPResponse,
  CertID,
  id_kp_OCSPSigning,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  TBSRequest,
} from '@peculiar/asn1-ocsp';
import { AlgorithmIdentifier, Certificate, CRLReasons, Extension, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { subjectDer } from '../material/crl-checks';
import { describeCert } from '../x509/trust-path';
import { verifySignature } from '../x509/signature';

const SHA1 = '1.3.14.3.2.26';
const HASHES: Record<string, string> = { [SHA1]: 'sha1', '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512' };
/** Clock difference tolerated between us and the responder for a nextUpdate just past, and a thisUpdate ahead when our nonce proves the answer fresh. */
const SKEW_MS = 5 * 60_000;
/** How far ahead of our clock a thisUpdate may be when its age is what proves it fresh (no nonce): small, it lengthens the replay window. */
export const OCSP_FUTURE_SKEW_MS = 60_000;

/** What an OCSP responder said about one certificate, after every check. */
export interface OcspStatus {
  status: 'good' | 'revoked' | 'unknown';
  revokedAt?: Date;
  reason?: string;
  thisUpdate: Date;
  nextUpdate?: Date;
}

/** The CertID of `cert` (issued by `issuer`) with `hash` (SHA-1 by default, as responders expect). */
function certId(cert: X509Certificate, issuer: X509Certificate, hashOid = SHA1): CertID {
  const hash = HASHES[hashOid];
  if (!hash) throw new Error(`unsupported CertID hash ${hashOid}`);
  const spki = AsnConvert.parse(issuer.publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
  const serialNumber = AsnConvert.parse(cert.raw, Certificate).tbsCertificate.serialNumber;
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: hashOid, parameters: null }),
    issuerNameHash: new OctetString(createHash(hash).update(subjectDer(issuer)).digest()),
    issuerKeyHash: new OctetString(createHash(hash).update(Buffer.from(spki.subjectPublicKey)).digest()),
    serialNumber,
  });
}

/**
 * How the freshness of an answer is proven: our `nonce` echoed (RFC 8954),
 * or, for a responder that cannot echo nonces, a thisUpdate at most
 * `maxAgeMs` old.
 */
export type OcspFreshness = { nonce: Buffer } | { maxAgeMs: number };

/** The DER of an OCSP request about one certificate, with a nonce (RFC 8954) when one is given. */
export function ocspRequest(cert: X509Certificate, issuer: X509Certificate, nonce?: Buffer): Buffer {
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({
      requestList: [new Request({ reqCert: certId(cert, issuer) })],
      ...(nonce
        ? { requestExtensions: [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(AsnConvert.serialize(new OctetString(nonce))) })] }
        : {}),
    }),
  });
  return Buffer.from(AsnConvert.serialize(request));
}

/**
 * Reads and checks an OCSP response about `cert`: a successful basic
 * response, signed by `issuer` or by a responder certificate `issuer`
 * issued with the OCSP-signing EKU and currently valid; fresh as `freshness`
 * demands (our nonce echoed, or a thisUpdate at most maxAgeMs old, with a
 * minute of skew for one ahead of our clock); the answer about our CertID
 * current (nextUpdate not past, 5 minutes of skew allowed). Throws an Error
 * saying what is wrong.
 */
export function readOcspResponse(der: Buffer, cert: X509Certificate, issuer: X509Certificate, freshness: OcspFreshness, now = new Date()): OcspStatus {
  const response = AsnConvert.parse(der, OCSPResponse);
  if (response.responseStatus !== OCSPResponseStatus.successful) {
    throw new Error(`the responder answered ${OCSPResponseStatus[response.responseStatus] ?? response.responseStatus}`);
  }
  if (!response.responseBytes || response.responseBytes.responseType !== id_pkix_ocsp_basic) throw new Error('not a basic OCSP response');
  const basic = AsnConvert.parse(response.responseBytes.response, BasicOCSPResponse);
  if (!basic.tbsResponseDataRaw) throw new Error('the response data could not be located');
  const signed = Buffer.from(basic.tbsResponseDataRaw);
  const algorithm = Buffer.from(AsnConvert.serialize(basic.signatureAlgorithm));
  const signature = Buffer.from(basic.signature);
  const included = (basic.certs ?? []).map((c) => new X509Certificate(Buffer.from(AsnConvert.serialize(c))));
  const signer = [issuer, ...included].find((candidate) => verifySignature(algorithm, signed, signature, candidate.publicKey));
  if (!signer) throw new Error('the response signature does not verify with the key of the issuer or of a responder certificate it includes');
  if (signer !== issuer && !signer.publicKey.equals(issuer.publicKey)) authorizedResponder(signer, issuer, now);

  const data = basic.tbsResponseData;
  if ('nonce' in freshness) {
    const echoed = data.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
    if (!echoed) {
      throw new Error('the answer does not echo our nonce, so it may be a replayed one (a responder that cannot echo nonces needs ocspNonce: false, and answers at most ocspMaxAgeMs old)');
    }
    const value = Buffer.from(AsnConvert.parse(echoed.extnValue, OctetString).buffer);
    if (!value.equals(freshness.nonce)) throw new Error('the response carries another nonce (a replayed answer?)');
  }
  const ours = data.responses.find((single) => {
    const hashOid = single.certID.hashAlgorithm.algorithm;
    if (!HASHES[hashOid]) return false;
    const expected = certId(cert, issuer, hashOid);
    return (
      Buffer.from(single.certID.serialNumber).equals(Buffer.from(expected.serialNumber)) &&
      Buffer.from(single.certID.issuerNameHash.buffer).equals(Buffer.from(expected.issuerNameHash.buffer)) &&
      Buffer.from(single.certID.issuerKeyHash.buffer).equals(Buffer.from(expected.issuerKeyHash.buffer))
    );
  });
  if (!ours) throw new Error('the response has no answer about this certificate');
  const ahead = 'nonce' in freshness ? SKEW_MS : OCSP_FUTURE_SKEW_MS;
  if (ours.thisUpdate.getTime() > now.getTime() + ahead) throw new Error(`the answer is from the future (thisUpdate ${ours.thisUpdate.toISOString()})`);
  if ('maxAgeMs' in freshness && now.getTime() - ours.thisUpdate.getTime() > freshness.maxAgeMs) {
    const age = Math.round((now.getTime() - ours.thisUpdate.getTime()) / 1000);
    throw new Error(`the answer is ${age} s old (thisUpdate ${ours.thisUpdate.toISOString()}), older than ocspMaxAgeMs (${freshness.maxAgeMs} ms) allows: a replayed answer?`);
  }
  if (ours.nextUpdate && ours.nextUpdate.getTime() < now.getTime() - SKEW_MS) throw new Error(`the answer is out of date (nextUpdate ${ours.nextUpdate.toISOString()})`);
  const base = { thisUpdate: ours.thisUpdate, ...(ours.nextUpdate ? { nextUpdate: ours.nextUpdate } : {}) };
  const status = ours.certStatus;
  if (status.revoked) {
    const reason = status.revoked.revocationReason !== undefined ? CRLReasons[status.revoked.revocationReason.reason] : undefined;
    return { status: 'revoked', revokedAt: status.revoked.revocationTime, ...(reason ? { reason } : {}), ...base };
  }
  if (status.good !== undefined) return { status: 'good', ...base };
  return { status: 'unknown', ...base };
}

/** A delegated responder must be issued by the CA it answers for, carry the OCSP-signing EKU, and be valid now. */
function authorizedResponder(signer: X509Certificate, issuer: X509Certificate, now: Date): void {
  const who = `the response is signed by ${describeCert(signer)}`;
  if (!signer.checkIssued(issuer) || !signer.verify(issuer.publicKey)) throw new Error(`${who}, which CA ${describeCert(issuer)} did not issue`);
  if (!(signer.keyUsage ?? []).includes(id_kp_OCSPSigning)) throw new Error(`${who}, which lacks the OCSP-signing extended key usage`);
  if (new Date(signer.validTo) < now || new Date(signer.validFrom) > now) throw new Error(`${who}, which is not valid now`);
}
