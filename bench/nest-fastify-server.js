#!/usr/bin/env node
'use strict';
/*
 * A reference for `npm run bench`: Nest 12 on its plain FastifyAdapter over
 * https, without nest-mtls, as the throwaway app of the issue: the same key,
 * chain and trust store as user-service, the same client-certificate demands,
 * a guard with a hand-written subject check cached per connection (as
 * bench/bare-server.js does), ParseIntPipe on the id, the same JSON
 * (bench/nest-reference-app.js). What user-service on MtlsFastifyAdapter
 * costs beyond this is nest-mtls's; what this costs beyond bare Node is Nest
 * and Fastify's.
 *
 * Env: PORT (required), HOST (127.0.0.1), BARE_KEY, BARE_CERT (leaf + chain),
 * BARE_CA (trust store). REFERENCE_PLAIN_HTTP=1: plain HTTP instead, the
 * guard reading the subject a sidecar forwards in `X-SSL-Client-S-DN` (the
 * app behind bench/nginx-sidecar.js). Prints `listening on ...` when ready.
 */
const { need: needOf, referenceTlsOptions } = require('./reference-tls-options');
const { referenceModule, fastifyCheck, forwardedCheck, serveUntilStopped } = require('./nest-reference-app');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');

const need = (name) => needOf('nest-fastify-server', name);

async function main() {
  const host = process.env.HOST || '127.0.0.1';
  const plain = process.env.REFERENCE_PLAIN_HTTP === '1';
  const adapter = plain ? new FastifyAdapter() : new FastifyAdapter({ https: referenceTlsOptions('nest-fastify-server') });
  const app = await NestFactory.create(referenceModule(plain ? forwardedCheck : fastifyCheck), adapter, { logger: ['error', 'warn'] });
  await app.listen(Number(need('PORT')), host);
  process.stdout.write(`nest-fastify-server listening on ${plain ? 'http' : 'https'}://${host}:${app.getHttpServer().address().port}\n`);
  serveUntilStopped(app);
}

main().catch((err) => {
  process.stderr.write(`nest-fastify-server: ${err.message}\n`);
  process.exit(1);
});
