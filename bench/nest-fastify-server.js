#!/usr/bin/env node
'use strict';
/*
 * A reference for `npm run bench`: Nest 12 on its plain FastifyAdapter over
 * https, without nest-mtls, as the throwaway app of the issue: the same key,
 * chain and trust store as user-service, the same client-certificate demands,
 * a guard with a hand-written subject check cached per connection (as
 * bench/bare-server.js does), ParseIntPipe on the id, the same JSON. What
 * user-service on MtlsFastifyAdapter costs beyond this is nest-mtls's; what
 * this costs beyond bare Node is Nest and Fastify's.
 *
 * Env: PORT (required), HOST (127.0.0.1), BARE_KEY, BARE_CERT (leaf + chain),
 * BARE_CA (trust store). Prints `listening on https://HOST:PORT` when ready.
 */
require('reflect-metadata');
const { need: needOf, referenceTlsOptions } = require('./reference-tls-options');
const { Controller, Get, Injectable, Module, Param, ParseIntPipe, UseGuards } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');

const USER = { id: 1, name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0001' };
const ALLOWED = Symbol('allowed');

/** The subject check of bare-server.js, decided once per TLS connection. */
class SubjectGuard {
  canActivate(context) {
    const socket = context.switchToHttp().getRequest().raw.socket;
    if (socket[ALLOWED] === undefined) {
      const peer = socket.getPeerCertificate();
      socket[ALLOWED] = Boolean(socket.authorized && peer && peer.subject && peer.subject.CN === 'home-page-service');
    }
    return socket[ALLOWED];
  }
}
Injectable()(SubjectGuard);

// Decorators applied by hand: this file is plain JavaScript.
const method = (cls, name) => Object.getOwnPropertyDescriptor(cls.prototype, name);

class UsersController {
  findOne(id) {
    if (id !== 1) return undefined;
    return USER;
  }
}
Param('id', ParseIntPipe)(UsersController.prototype, 'findOne', 0);
Reflect.defineMetadata('design:paramtypes', [Number], UsersController.prototype, 'findOne');
Get(':id')(UsersController.prototype, 'findOne', method(UsersController, 'findOne'));
UseGuards(SubjectGuard)(UsersController);
Controller('users')(UsersController);

class HealthController {
  health() {
    return { status: 'ok' };
  }
}
Get()(HealthController.prototype, 'health', method(HealthController, 'health'));
Controller('health')(HealthController);

class AppModule {}
Module({ controllers: [UsersController, HealthController], providers: [SubjectGuard] })(AppModule);

const need = (name) => needOf('nest-fastify-server', name);

async function main() {
  const host = process.env.HOST || '127.0.0.1';
  const https = referenceTlsOptions('nest-fastify-server');
  const app = await NestFactory.create(AppModule, new FastifyAdapter({ https }), { logger: ['error', 'warn'] });
  await app.listen(Number(need('PORT')), host);
  process.stdout.write(`nest-fastify-server listening on https://${host}:${app.getHttpServer().address().port}\n`);
  const stop = () => app.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// Die with the bench: stdin is a pipe from the parent; EOF means the parent is gone.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();

main().catch((err) => {
  process.stderr.write(`nest-fastify-server: ${err.message}\n`);
  process.exit(1);
});
