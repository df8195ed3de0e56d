import { createHash, X509Certificate } from 'node:crypto';
import { ForwardedCertificateError } from './forwarded-certificate.error';
import { parseXfcc, xfccField } from './xfcc';

/** The headers a trusted proxy may forward the client certificate in (lowercase; any case is accepted). */
export type ForwardedCertHeader = 'x-forwarded-client-cert' | 'client-cert';

/** A client certificate as a proxy forwarded it, not yet verified. */
export interface ForwardedCertificate {
  /** The client's certificate. */
  leaf: X509Certificate;
  /** The other certificates the proxy forwarded with it (intermediates; untrusted helpers for path building). */
  intermediates: X509Certificate[];
  /** The raw header text, for the cache key. */
  raw: string;
}

/** Request headers as Node gives them: lowercase names, joined values (or arrays for set-cookie). */
export type RequestHeaders = Record<string, string | string[] | undefined>;

const MAX_CHAIN = 10;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The headers that carry a forwarded certificate for each setting (all are removed from requests of untrusted peers). */
export function forwardedHeaderNames(header: ForwardedCertHeader): string[] {
  return header === 'client-cert' ? ['client-cert', 'client-cert-chain'] : ['x-forwarded-client-cert'];
}

function headerText(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The text of the forwarded-certificate header(s) of a request, as one
 * string (the cache key of a verified forward: a known caller is found
 * without parsing anything); undefined when the request carries none.
 */
export function forwardedHeaderText(headers: RequestHeaders, header: ForwardedCertHeader): string | undefined {
  if (header === 'x-forwarded-client-cert') return headerText(headers, 'x-forwarded-client-cert');
  const cert = headerText(headers, 'client-cert');
  const chain = headerText(headers, 'client-cert-chain');
  return cert === undefined && chain === undefined ? undefined : `${cert ?? ''}\n${chain ?? ''}`;
}

/**
 * The client certificate a trusted proxy forwarded in `header`, or
 * undefined when the request has none (the proxy is then judged as itself).
 * Only the certificate counts: the proxy's Subject/URI/DNS fields are never
 * read as an identity. Throws ForwardedCertificateError when the header is
 * present but cannot be read.
 */
export function readForwardedCertificate(headers: RequestHeaders, header: ForwardedCertHeader): ForwardedCertificate | undefined {
  return header === 'client-cert' ? readRfc9440(headers) : readXfcc(headers);
}

function readXfcc(headers: RequestHeaders): ForwardedCertificate | undefined {
  const raw = headerText(headers, 'x-forwarded-client-cert');
  if (raw === undefined) return undefined;
  const elements = parseXfcc(raw);
  // The element the proxy next to us appended is the last; earlier ones came from further away.
  const element = elements[elements.length - 1];
  const problem = (what: string) => new ForwardedCertificateError('x-forwarded-client-cert', what);
  const certText = xfccField(element, 'cert');
  const chainText = xfccField(element, 'chain');
  if (certText === undefined && chainText === undefined) {
    throw problem('its last element has no Cert (or Chain) field: configure the proxy to forward the certificate itself (Envoy: set_current_client_cert_details with cert: true); Subject, URI and DNS alone are not accepted');
  }
  const certs = certText !== undefined ? pemCertificates(urlDecoded(certText, 'Cert'), 'Cert') : [];
  if (certText !== undefined && certs.length !== 1) throw problem(`Cert holds ${certs.length} certificates; expected exactly one`);
  const chain = chainText !== undefined ? pemCertificates(urlDecoded(chainText, 'Chain'), 'Chain') : [];
  if (chainText !== undefined && chain.length === 0) throw problem('Chain holds no certificate');
  if (chain.length > MAX_CHAIN) throw problem(`Chain holds ${chain.length} certificates; at most ${MAX_CHAIN} are read`);
  const leaf = certs[0] ?? chain[0];
  const hash = xfccField(element, 'hash');
  if (hash !== undefined) {
    const actual = createHash('sha256').update(leaf.raw).digest('hex');
    if (hash.toLowerCase() !== actual) throw problem('Hash is not the SHA-256 of the DER of Cert');
  }
  return { leaf, intermediates: chain.filter((c) => c.fingerprint256 !== leaf.fingerprint256), raw };

  function urlDecoded(value: string, field: string): string {
    try {
      return decodeURIComponent(value);
    } catch {
      throw problem(`${field} is not URL-encoded PEM`);
    }
  }
  function pemCertificates(pem: string, field: string): X509Certificate[] {
    const blocks = pem.match(PEM_CERT) ?? [];
    if (blocks.length === 0 && pem.trim().length > 0) throw problem(`${field} is not PEM (no BEGIN CERTIFICATE block)`);
    return blocks.slice(0, MAX_CHAIN + 1).map((block, n) => {
      let certificate: X509Certificate;
      try {
        certificate = new X509Certificate(block);
      } catch {
        throw problem(`${field}: certificate ${n + 1} cannot be read`);
      }
      // OpenSSL reads a certificate and ignores what follows it: the block must be the certificate and nothing more.
      const der = Buffer.from(block.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, ''), 'base64');
      if (!certificate.raw.equals(der)) throw problem(`${field}: certificate ${n + 1} has bytes after its DER`);
      return certificate;
    });
  }
}

/** An RFC 8941 byte sequence, `:base64:`. */
const BYTE_SEQUENCE = /^:([A-Za-z0-9+/]*={0,2}):$/;

function byteSequence(item: string, header: string, what: string): Buffer {
  const match = BYTE_SEQUENCE.exec(item.trim());
  if (!match || match[1].length % 4 !== 0) {
    throw new ForwardedCertificateError(header, `${what} is not a structured-field byte sequence (:base64 of the DER:)`);
  }
  return Buffer.from(match[1], 'base64');
}

function derCertificate(der: Buffer, header: string, what: string): X509Certificate {
  if (der.length === 0 || der[0] !== 0x30) throw new ForwardedCertificateError(header, `${what} is not a DER certificate`);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch {
    throw new ForwardedCertificateError(header, `${what} is not a DER certificate`);
  }
  // OpenSSL reads a certificate and ignores what follows it: the value must be the certificate and nothing more.
  if (certificate.raw.length !== der.length) throw new ForwardedCertificateError(header, `${what} has bytes after its DER certificate`);
  return certificate;
}

/** RFC 9440: `Client-Cert: :<base64 DER>:` and, optionally, `Client-Cert-Chain: :<base64 DER>:, ...` (the intermediates). */
function readRfc9440(headers: RequestHeaders): ForwardedCertificate | undefined {
  const certText = headerText(headers, 'client-cert');
  const chainText = headerText(headers, 'client-cert-chain');
  if (certText === undefined) {
    if (chainText !== undefined) throw new ForwardedCertificateError('client-cert-chain', 'the header came without Client-Cert');
    return undefined;
  }
  if (certText.includes(',')) throw new ForwardedCertificateError('client-cert', 'the header holds more than one value (it was sent several times)');
  const leaf = derCertificate(byteSequence(certText, 'client-cert', 'the value'), 'client-cert', 'the value');
  const items = chainText === undefined ? [] : chainText.split(',');
  if (items.length > MAX_CHAIN) throw new ForwardedCertificateError('client-cert-chain', `${items.length} certificates; at most ${MAX_CHAIN} are read`);
  const intermediates = items.map((item, n) =>
    derCertificate(byteSequence(item, 'client-cert-chain', `certificate ${n + 1}`), 'client-cert-chain', `certificate ${n + 1}`),
  );
  return { leaf, intermediates: intermediates.filter((c) => c.fingerprint256 !== leaf.fingerprint256), raw: `${certText}\n${chainText ?? ''}` };
}
