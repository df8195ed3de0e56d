import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { subjectDer } from '../material/crl-checks';
import { certificateFacts, type CertificateFacts } from '../x509/certificate-facts';
import type { ChainLink } from './revocation-answer';

/** The certificates of a verified client chain that revocation applies to: the client certificate, then each CA below the root. */
export interface PeerChain {
  leaf: CertificateFacts;
  links: ChainLink[];
}

const MAX_DEPTH = 10;
const LEARNT_CAS = 1000;

/**
 * Rebuilds the chain of a verified client certificate, once per certificate
 * (cached by fingerprint): a resumed TLS session carries the client
 * certificate only, so the chain is built from the CAs we know (trust store,
 * our own chain) and the intermediate CAs seen in chains OpenSSL verified in
 * full handshakes; each step checks the issuer's signature.
 */
export class ChainBuilder {
  private trusted = new Map<string, X509Certificate>();
  private readonly learnt = new LRUCache<string, X509Certificate>({ max: LEARNT_CAS });
  private readonly chains = new LRUCache<string, PeerChain>({ max: 10_000 });
  private readonly facts = new LRUCache<string, CertificateFacts>({ max: 10_000 });

  /** The CAs we trust and hold (a new material snapshot); cached chains are rebuilt from now on. */
  setKnownCas(cas: X509Certificate[]): void {
    this.trusted = new Map(cas.filter((c) => c.ca).map((c) => [c.fingerprint256, c]));
    this.chains.clear();
  }

  /** The chain of the verified peer of `socket`, or undefined when it cannot be rebuilt (or the peer is not verified). */
  chainOf(socket: TLSSocket): PeerChain | undefined {
    const peer = socket.getPeerCertificate(false);
    if (!peer?.raw || !peer.fingerprint256) return undefined;
    const cached = this.chains.get(peer.fingerprint256);
    if (cached) return cached;
    if (!socket.isSessionReused()) this.learnFrom(socket);
    const built = this.build(new X509Certificate(peer.raw));
    if (built) this.chains.set(peer.fingerprint256, built); // not remembered when unbuilt: a later full handshake may teach the missing CA
    return built;
  }

  /** The facts of a certificate (cached by fingerprint). */
  factsOf(cert: X509Certificate): CertificateFacts {
    let facts = this.facts.get(cert.fingerprint256);
    if (!facts) {
      facts = certificateFacts(cert);
      this.facts.set(cert.fingerprint256, facts);
    }
    return facts;
  }

  /**
   * Builds the chain of `leaf` from the CAs we know, and from `intermediates`
   * (CA certificates that came with it, e.g. forwarded by a proxy; each step
   * still checks the issuer's signature; they are not remembered).
   */
  build(leaf: X509Certificate, intermediates: X509Certificate[] = []): PeerChain | undefined {
    const links: ChainLink[] = [];
    let current = leaf;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      if (isSelfSigned(current)) break;
      const facts = this.factsOf(current);
      const issuer = this.issuerOf(current, facts, intermediates);
      if (!issuer) {
        if (depth > 0 && this.trusted.has(current.fingerprint256)) break; // a trust anchor that is not self-signed
        return undefined;
      }
      links.push({ facts, issuer, kind: depth === 0 ? 'leaf' : 'ca' });
      if (isSelfSigned(issuer)) break;
      current = issuer;
    }
    return links.length > 0 ? { leaf: links[0].facts, links } : undefined;
  }

  private issuerOf(cert: X509Certificate, facts: CertificateFacts, intermediates: X509Certificate[] = []): X509Certificate | undefined {
    for (const candidate of [...this.trusted.values(), ...this.learnt.values(), ...intermediates.filter((c) => c.ca)]) {
      if (subjectDer(candidate).equals(facts.issuerDer) && cert.checkIssued(candidate) && cert.verify(candidate.publicKey)) return candidate;
    }
    return undefined;
  }

  /** Remembers the CA certificates of a chain OpenSSL verified in this (full) handshake. */
  private learnFrom(socket: TLSSocket): void {
    if (!socket.authorized) return;
    let node: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true)?.issuerCertificate;
    for (let depth = 0; node?.raw && depth < MAX_DEPTH; depth++) {
      if (!this.trusted.has(node.fingerprint256) && !this.learnt.has(node.fingerprint256)) {
        const cert = new X509Certificate(node.raw);
        if (cert.ca) {
          this.learnt.set(cert.fingerprint256, cert);
        }
      }
      if (node.issuerCertificate === node) break;
      node = node.issuerCertificate;
    }
  }
}

function isSelfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}
