'use strict';
/*
 * What nest-mtls itself costs per request once a connection's caller is
 * known: ClientCertGuard.canActivate with user-service's policy (the anchored
 * DN regex) and @ClientCert's lookup of the admitted identity, on a fresh
 * request object and ExecutionContext each time, as Nest makes them. Measured
 * in the bench's own process with the built library (a stand-in TLS socket
 * whose identity is already cached, as on a kept-alive connection);
 * undefined when the library does not export what it needs. Resolves with
 * the microseconds per request.
 */
const { X509Certificate } = require('node:crypto');
const { EventEmitter } = require('node:events');
const { readFileSync } = require('node:fs');
const path = require('node:path');

async function measureGuardCost(libraryIndex, certFile, ms = 500) {
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
  const request = async () => {
    const context = new ExecutionContextHost([{ raw: { socket }, method: 'GET', url: '/users/1' }, {}], UsersController, UsersController.prototype.findOne);
    context.setType('http');
    // canActivate may answer at once or with a promise (Nest takes either).
    if (!(await guard.canActivate(context))) throw new Error('the guard refused the bench caller');
    return judgedCaller(context).subject;
  };
  return { guardUs: await perOpUsAsync(request, ms, 20000) };
}

/** perOpUs for a function that returns a promise: awaited one after another, as requests on one connection are. */
async function perOpUsAsync(fn, ms, warmup = 50) {
  for (let i = 0; i < warmup; i++) await fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms && n < 1_000_000) {
    await fn();
    n++;
  }
  return ((performance.now() - start) * 1000) / n;
}

module.exports = { measureGuardCost };
