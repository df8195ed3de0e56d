import * as asn1js from 'asn1js';
import { createHash, X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';
import type { IssuedCertificate, Pkcs12Options } from './certificate-spec.interface';
import { nodeCrypto } from './webcrypto-keys';

const OID_KEY_BAG = '1.2.840.113549.1.12.10.1.2'; // pkcs8ShroudedKeyBag
const OID_CERT_BAG = '1.2.840.113549.1.12.10.1.3'; // certBag
const OID_X509_CERT = '1.2.840.113549.1.9.22.1'; // x509Certificate
const OID_FRIENDLY_NAME = '1.2.840.113549.1.9.20';
const OID_LOCAL_KEY_ID = '1.2.840.113549.1.9.21';
const DEFAULT_ITERATIONS = 2048;

const engine = new pkijs.CryptoEngine({ name: 'node', crypto: nodeCrypto as never });

/**
 * A PKCS#12 keystore holding `cert`'s private key and chain (leaf first, no
 * root), as OpenSSL 3 writes it by default: the key in a PBES2 shrouded key
 * bag, the certificates in a PBES2-encrypted safe (PBKDF2-HMAC-SHA256,
 * AES-256-CBC), and an HMAC-SHA256 MAC over everything. The key and the leaf
 * share a localKeyId (the leaf's SHA-1 fingerprint) and a friendlyName (the
 * alias), so OpenSSL, Java (keytool, KeyStore "PKCS12") and Node read them
 * as one key entry named `alias`.
 */
export async function toPkcs12(cert: IssuedCertificate, password: string, opts: Pkcs12Options = {}): Promise<Buffer> {
  const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  const passwordBytes = toArrayBuffer(Buffer.from(password, 'utf8'));
  const localKeyId = createHash('sha1').update(cert.certificate.raw).digest();
  const leafAttributes = bagAttributes(localKeyId, opts.alias);

  const keyInfo = pkijs.PrivateKeyInfo.fromBER(toArrayBuffer(cert.key.export({ format: 'der', type: 'pkcs8' })));
  const keyBag = new pkijs.PKCS8ShroudedKeyBag({ parsedValue: keyInfo });
  await keyBag.makeInternalValues(
    { password: passwordBytes, contentEncryptionAlgorithm: { name: 'AES-CBC', length: 256 }, hmacHashAlgorithm: 'SHA-256', iterationCount: iterations },
    engine,
  );

  const chain = cert.chain.length > 0 ? cert.chain : [cert.certificate];
  const certBags = chain.map(
    (c: X509Certificate, index) =>
      new pkijs.SafeBag({
        bagId: OID_CERT_BAG,
        bagValue: new pkijs.CertBag({ certId: OID_X509_CERT, parsedValue: pkijs.Certificate.fromBER(toArrayBuffer(c.raw)) }),
        bagAttributes: index === 0 ? leafAttributes : undefined,
      }),
  );

  const pfx = new pkijs.PFX({
    parsedValue: {
      integrityMode: 0, // password-based integrity (MAC)
      authenticatedSafe: new pkijs.AuthenticatedSafe({
        parsedValue: {
          safeContents: [
            {
              privacyMode: 0, // the key bag is shrouded itself
              value: new pkijs.SafeContents({ safeBags: [new pkijs.SafeBag({ bagId: OID_KEY_BAG, bagValue: keyBag, bagAttributes: leafAttributes })] }),
            },
            {
              privacyMode: 1, // password-encrypted certificates
              value: new pkijs.SafeContents({ safeBags: certBags }),
            },
          ],
        },
      }),
    },
  });
  await pfx.parsedValue!.authenticatedSafe!.makeInternalValues(
    {
      safeContents: [
        {},
        { password: passwordBytes, contentEncryptionAlgorithm: { name: 'AES-CBC', length: 256 }, hmacHashAlgorithm: 'SHA-256', iterationCount: iterations },
      ],
    },
    engine,
  );
  await pfx.makeInternalValues({ password: passwordBytes, iterations, pbkdf2HashAlgorithm: 'SHA-256', hmacHashAlgorithm: 'SHA-256' }, engine);
  return Buffer.from(pfx.toSchema().toBER(false));
}

function bagAttributes(localKeyId: Buffer, alias: string | undefined): pkijs.Attribute[] {
  const attributes = [new pkijs.Attribute({ type: OID_LOCAL_KEY_ID, values: [new asn1js.OctetString({ valueHex: toArrayBuffer(localKeyId) })] })];
  if (alias) attributes.unshift(new pkijs.Attribute({ type: OID_FRIENDLY_NAME, values: [new asn1js.BmpString({ value: alias })] }));
  return attributes;
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}
