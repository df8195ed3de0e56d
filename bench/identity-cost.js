'use strict';
/*
 * What nest-mtls pays once per new TLS connection to know the caller: the
 * peer certificate as an X509Certificate (what getPeerX509Certificate()
 * builds) and the ClientIdentity made from it (identityFromCertificate: DN
 * strings, SANs). Measured in the bench's own process, warm, with the built
 * library; undefined when the library does not export it.
 */
const { X509Certificate } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { perOpUs } = require('./stats');


function measureIdentityCost(libraryIndex, certFile, ms = 500) {
  let lib;
  try {
    lib = require(libraryIndex);
  } catch {
    return undefined;
  }
  if (typeof lib.identityFromCertificate !== 'function') return undefined;
  const der = new X509Certificate(readFileSync(certFile)).raw;
  const cert = new X509Certificate(der);
  const result = {
    // Built once per certificate (the first connection of a caller).
    identityUs: perOpUs(() => lib.identityFromCertificate(cert), ms),
  };
  // Every later connection of the same caller: a lookup by SHA-256 fingerprint.
  let IdentityCache;
  try {
    ({ IdentityCache } = require(libraryIndex.replace(/index\.js$/, 'identity/identity-cache.js')));
  } catch {
    IdentityCache = undefined;
  }
  if (IdentityCache) {
    const cache = new IdentityCache();
    const certs = Array.from({ length: 64 }, () => new X509Certificate(der)); // fresh objects, as sockets hand out
    let i = 0;
    result.cachedUs = perOpUs(() => {
      const c = certs[i++ % certs.length];
      return cache.get(c.fingerprint256, () => lib.identityFromCertificate(c));
    }, ms);
  }
  return result;
}

module.exports = { measureIdentityCost };
