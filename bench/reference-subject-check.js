'use strict';
/*
 * The hand-written subject check of the bench's reference servers
 * (bench/bare-server.js, bench/nest-reference-app.js): the caller is allowed
 * when its verified certificate's CN is home-page-service. Decided once per
 * TLS connection, as nest-mtls caches the identity per socket:
 * getPeerCertificate() builds a large object (fingerprints, public key, raw
 * DER) and costs far more than the rest of a handler. The legacy subject
 * object it reads loses DN escaping: fine for a bench, not for production.
 */
const ALLOWED = Symbol('allowed');

/** Whether the caller on this TLS socket may read /users/:id. */
function callerAllowed(socket) {
  if (socket[ALLOWED] === undefined) {
    const peer = socket.getPeerCertificate();
    socket[ALLOWED] = Boolean(socket.authorized && peer && peer.subject && peer.subject.CN === 'home-page-service');
  }
  return socket[ALLOWED];
}

module.exports = { callerAllowed };
