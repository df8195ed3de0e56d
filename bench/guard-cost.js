'use strict';
/*
 * What nest-mtls itself costs per request once a connection's caller is
 * known: ClientCertGuard.canActivate and @ClientCert's lookup of the admitted
 * identity, on a fresh request object and ExecutionContext each time, as Nest
 * makes them. Measured in the bench's own process with the built library (a
 * stand-in TLS socket whose identity is already cached, as on a kept-alive
 * connection); undefined when the library does not export what it needs.
 * Resolves with the microseconds per request:
 *   guardUs   user-service's policy (the anchored DN regex), admitted
 *   ruleUs    a typed rule, { spiffeId: 'spiffe://example.org/home-page-service' }, admitted
 *   anyOfUs   two requirements, the second admits (the first refuses on the way)
 *   deniedUs  a refusal (the DN regex of another service), caught: the log line is summarised after the first
 *   metricsUs guardUs with the application's MtlsEvents and MtlsMetrics listening to them (as user-service has: its
 *             admin module counts every decision whether or not the admin port serves)
 *
 *   node bench/guard-cost.js [ms] [dist]   prints them (dist: a built libs/mtls/dist, the default; after npm run build)
 */
const { X509Certificate } = require('node:crypto');
const { EventEmitter } = require('node:events');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

async function measureGuardCost(libraryIndex, certFile, ms = 500) {
  let lib;
  let internal;
  let Reflector;
  let ExecutionContextHost;
  try {
    lib = require(libraryIndex);
    internal = judgedCallerOf(path.dirname(libraryIndex));
    ({ Reflector } = require('@nestjs/core'));
    ({ ExecutionContextHost } = require('@nestjs/core/helpers/execution-context-host.js'));
  } catch {
    return undefined;
  }
  if (!internal) return undefined;
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
  const guard = new lib.ClientCertGuard(new Reflector());
  // The refusal's one log line (then a summary per 10 s) stays out of the bench's output.
  guard.logger.warn = () => undefined;
  // The same guard with the application's event streams, and metrics counting them.
  const events = new lib.MtlsEvents();
  const metrics = metricsOn(path.dirname(libraryIndex), events);
  const counted = new lib.ClientCertGuard(new Reflector(), undefined, undefined, events);
  const controller = (...requirements) => {
    class UsersController {
      findOne() {}
    }
    lib.RequireClientCert(...requirements)(UsersController);
    return UsersController;
  };
  const request = (Controller, admitted, judge = guard) => async () => {
    // As Node and Fastify make them: an HTTP/1.1 request on the connection, whose answer is the one Node writes next.
    const raw = { socket, httpVersionMajor: 1 };
    socket._httpMessage = { req: raw };
    const context = new ExecutionContextHost([{ raw, method: 'GET', url: '/users/1' }, {}], Controller, Controller.prototype.findOne);
    context.setType('http');
    let allowed;
    try {
      // canActivate may answer at once or with a promise (Nest takes either).
      allowed = await judge.canActivate(context);
    } catch {
      allowed = false;
    }
    if (allowed !== admitted) throw new Error(`the guard ${allowed ? 'admitted' : 'refused'} the bench caller`);
    return admitted ? internal(context).subject : undefined;
  };
  return {
    guardUs: await perOpUsAsync(request(controller(/^CN=home-page-service(,|$)/), true), ms, 20000),
    ruleUs: await perOpUsAsync(request(controller({ spiffeId: 'spiffe://example.org/home-page-service' }), true), ms, 20000),
    anyOfUs: await perOpUsAsync(request(controller(/^CN=event-service(,|$)/, { spiffeId: 'spiffe://example.org/home-page-service' }), true), ms, 20000),
    deniedUs: await perOpUsAsync(request(controller(/^CN=event-service(,|$)/), false), ms, 20000),
    metricsUs: metrics ? await perOpUsAsync(request(controller(/^CN=home-page-service(,|$)/), true, counted), ms, 20000) : undefined,
  };
}

/** MtlsMetrics of the built library on `events` (its material source a stand-in: nothing here is scraped), or undefined. */
function metricsOn(dist, events) {
  try {
    const { MtlsMetrics } = require(path.join(dist, 'admin/index.js'));
    const { Subject } = require('rxjs');
    const source = { current: () => ({ options: {} }), rolesInUse: () => new Set(), reloads: new Subject() };
    return new MtlsMetrics(source, events, { defaultMetrics: false });
  } catch {
    return undefined;
  }
}

/** judgedCaller of the built library, wherever this version keeps it (it moved with the folders). */
function judgedCallerOf(dist) {
  for (const file of ['guard/judged-caller.js', 'policy/judged-caller.js']) {
    try {
      return require(path.join(dist, file)).judgedCaller;
    } catch {
      // the next place
    }
  }
  return undefined;
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

if (require.main === module) {
  (async () => {
    const root = path.join(__dirname, '..');
    const ms = Number(process.argv[2] ?? 1000);
    const dist = path.resolve(process.argv[3] ?? path.join(root, 'libs/mtls/dist'));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nest-mtls-guard-cost-'));
    try {
      const { initPki } = require(path.join(dist, 'dev-pki/index.js'));
      const pki = await initPki(path.join(dir, 'pki'), { services: ['home-page-service'] });
      const cost = await measureGuardCost(path.join(dist, 'index.js'), pki.service('home-page-service').cert, ms);
      if (!cost) throw new Error('the built library lacks what the bench needs (npm run build first)');
      console.log(`ClientCertGuard + @ClientCert per request (in-process, warm, Node ${process.versions.node}):`);
      console.log(`  DN regex, admitted          ${cost.guardUs.toFixed(2)} µs`);
      console.log(`  spiffeId rule, admitted     ${cost.ruleUs.toFixed(2)} µs`);
      console.log(`  anyOf, 2nd admits           ${cost.anyOfUs.toFixed(2)} µs`);
      console.log(`  refused (403, reason built) ${cost.deniedUs.toFixed(2)} µs`);
      if (cost.metricsUs !== undefined) console.log(`  DN regex, metrics counting  ${cost.metricsUs.toFixed(2)} µs`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
