import { createHash, sign, type X509Certificate } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  id_pkix_ocsp_basic,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
} from '@peculiar/asn1-ocsp';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import type { IssuedCertificate } from 'nest-mtls/testing';

const SHA1 = '1.3.14.3.2.26';
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const RSA_SHA256 = '1.2.840.113549.1.1.11';

/** What a crafted OCSP answer says, and when. */
export interface CraftedOcspAnswer {
  /** The certificate it speaks about (issued by `signer`). */
  cert: X509Certificate;
  /** The CA that issued `cert`, whose key signs the answer (as a CA answering for itself may). */
  signer: IssuedCertificate;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** Default: good. */
  revokedAt?: Date;
}

/**
 * A basic OCSP response about one certificate, signed with the issuing CA's
 * own key, with whatever thisUpdate the test wants and no nonce: what a
 * responder that pre-produces answers (or one that answered a year ago)
 * serves, correctly signed. Built with @peculiar/asn1-ocsp, signed by Node.
 */
export function craftOcspAnswer(answer: CraftedOcspAnswer): Buffer {
  const issuer = AsnConvert.parse(answer.signer.certificate.raw, Certificate).tbsCertificate;
  const certID = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1, parameters: null }),
    issuerNameHash: new OctetString(createHash('sha1').update(Buffer.from(AsnConvert.serialize(issuer.subject))).digest()),
    issuerKeyHash: new OctetString(createHash('sha1').update(Buffer.from(issuer.subjectPublicKeyInfo.subjectPublicKey)).digest()),
    serialNumber: AsnConvert.parse(answer.cert.raw, Certificate).tbsCertificate.serialNumber,
  });
  const data = new ResponseData({
    responderID: new ResponderID({ byName: issuer.subject }),
    producedAt: answer.thisUpdate,
    responses: [
      new SingleResponse({
        certID,
        certStatus: new CertStatus(answer.revokedAt ? { revoked: new RevokedInfo({ revocationTime: answer.revokedAt }) } : { good: null }),
        thisUpdate: answer.thisUpdate,
        ...(answer.nextUpdate ? { nextUpdate: answer.nextUpdate } : {}),
      }),
    ],
  });
  const tbs = Buffer.from(AsnConvert.serialize(data));
  const rsa = answer.signer.key.asymmetricKeyType === 'rsa';
  const basic = new BasicOCSPResponse({
    tbsResponseData: data,
    signatureAlgorithm: new AlgorithmIdentifier(rsa ? { algorithm: RSA_SHA256, parameters: null } : { algorithm: ECDSA_SHA256 }),
    signature: new Uint8Array(sign('sha256', tbs, answer.signer.key)).buffer,
  });
  return Buffer.from(
    AsnConvert.serialize(
      new OCSPResponse({
        responseStatus: OCSPResponseStatus.successful,
        responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
      }),
    ),
  );
}
