'use strict';
/*
 * What the public-key crypto of one handshake costs on this machine, measured
 * with Node's crypto (same OpenSSL as the servers): ECDSA P-256 sign and
 * verify, X25519 key generation + derivation. Lets the report say how much of
 * the per-connection CPU is crypto and how much is everything else.
 *
 * Server side of a full TLS 1.3 handshake with the dev PKI (EC P-256, root ->
 * global CA -> leaf, X25519): verify the client's CertificateVerify and the
 * two signatures of its chain (leaf by global CA, global CA by root) = 3
 * verifies; sign its own CertificateVerify = 1 sign; one ephemeral X25519 key
 * pair and one derivation. A resumed (psk_dhe_ke) handshake: the X25519 part only.
 */
const crypto = require('node:crypto');
const { perOpUs } = require('./stats');


function measureCryptoCost(ms = 300) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = crypto.randomBytes(100);
  const signature = crypto.sign('sha256', data, privateKey);
  const peer = crypto.generateKeyPairSync('x25519');
  const sign = perOpUs(() => crypto.sign('sha256', data, privateKey), ms);
  const verify = perOpUs(() => crypto.verify('sha256', data, publicKey, signature), ms);
  const x25519 = perOpUs(() => {
    const own = crypto.generateKeyPairSync('x25519');
    crypto.diffieHellman({ privateKey: own.privateKey, publicKey: peer.publicKey });
  }, ms);
  return {
    signUs: sign,
    verifyUs: verify,
    x25519Us: x25519,
    fullHandshakeUs: 3 * verify + sign + x25519,
    resumedHandshakeUs: x25519,
  };
}

module.exports = { measureCryptoCost };
