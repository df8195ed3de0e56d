#!/usr/bin/env node
'use strict';
/*
 * A reference for `npm run bench`: Nest 12 on its plain ExpressAdapter over
 * https, without nest-mtls: the app of bench/nest-fastify-server.js
 * (bench/nest-reference-app.js: a hand-written subject check cached per
 * connection, ParseIntPipe, the same JSON) on Express 5, with
 * `x-powered-by` off as MtlsExpressAdapter has it. What user-service on
 * MtlsExpressAdapter costs beyond this is nest-mtls's.
 *
 * Env: PORT (required), HOST (127.0.0.1), BARE_KEY, BARE_CERT (leaf + chain),
 * BARE_CA (trust store). Prints `listening on https://HOST:PORT` when ready.
 */
const { need: needOf, referenceTlsOptions } = require('./reference-tls-options');
const { referenceModule, expressCheck, serveUntilStopped } = require('./nest-reference-app');
const { NestFactory } = require('@nestjs/core');
const { ExpressAdapter } = require('@nestjs/platform-express');

const need = (name) => needOf('nest-express-server', name);

async function main() {
  const host = process.env.HOST || '127.0.0.1';
  const adapter = new ExpressAdapter();
  adapter.getInstance().disable('x-powered-by');
  const app = await NestFactory.create(referenceModule(expressCheck), adapter, {
    logger: ['error', 'warn'],
    httpsOptions: referenceTlsOptions('nest-express-server'),
  });
  await app.listen(Number(need('PORT')), host);
  process.stdout.write(`nest-express-server listening on https://${host}:${app.getHttpServer().address().port}\n`);
  serveUntilStopped(app);
}

main().catch((err) => {
  process.stderr.write(`nest-express-server: ${err.message}\n`);
  process.exit(1);
});
