'use strict';
/*
 * What nest-mtls itself costs per request once a connection's caller is
 * known: ClientCertGuard.canActivate with user-service's policy (the anchored
 * DN regex) and @ClientCert's lookup of the admitted identity, on a fresh
 * request object and ExecutionContext each time, as Nest makes them. Measured
 * in the bench's own process with the built library (a stand-in TLS socket
 * whose identity is already cached, as on a kept-alive connection);
 * undefined when the library does not export what it needs.
 */
const { X509Certificate } = require('node:crypto');
const { EventEmitter } = require('node:events');
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { perOpUs } = require('./stats');

function measureGuardCost(libraryIndex, certFile, ms = 500) {
  let lib;
  let judgedCaller;
  let Reflector;
  let ExecutionContextHost;
  try {
    lib = require(libraryIndex);
    ({ judgedCaller } = require(path.join(path.dirname(libraryIndex), 'policy/judged-caller.js')));
    ({ Reflector } = require('@nestjs/core'));
    ({ ExecutionContextHost } = require('@nestjs/core/helpers/execution-context-host.js'));
  } catch {
    return undefined;
  }
  const cert = new X509Certificate(readFileSync(certFile));
  const socket = Object.assign(new EventEmitter(), {
    encrypted: true,
    authorized: true,
    authorizationError: null,
    remoteAddress: '127.0.0.1',
    remotePort: 40000,
    getPeerX509Certificate: () => cert,
    getPeerCertificate: () => ({ raw: cert.raw, fingerprint256: cert.fingerprint256 }),
  });
  class UsersController {
    findOne() {}
  }
  lib.RequireClientCert(/^CN=home-page-service(,|$)/)(UsersController);
  const guard = new lib.ClientCertGuard(new Reflector());
  const request = () => {
    const context = new ExecutionContextHost([{ raw: { socket }, method: 'GET', url: '/users/1' }, {}], UsersController, UsersController.prototype.findOne);
    context.setType('http');
    if (!guard.canActivate(context)) throw new Error('the guard refused the bench caller');
    return judgedCaller(context).subject;
  };
  return { guardUs: perOpUs(request, ms, 20000) };
}

module.exports = { measureGuardCost };
