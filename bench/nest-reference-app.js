'use strict';
/*
 * The plain Nest application of the bench's references (no nest-mtls), as a
 * team would hand-write it: a guard with a subject check decided once per
 * TLS connection (as bench/bare-server.js does), ParseIntPipe on the id, the
 * same JSON as user-service; an unguarded GET /health. Served by
 * bench/nest-fastify-server.js (FastifyAdapter), bench/nest-express-server.js
 * (ExpressAdapter) and, behind the nginx sidecar, over plain HTTP with the
 * subject nginx forwards (bench/nginx-sidecar.js).
 *
 *   referenceModule(check)   check(request) -> boolean: who may read /users/:id
 */
require('reflect-metadata');
const { Controller, Get, Injectable, Module, Param, ParseIntPipe, UseGuards } = require('@nestjs/common');
const { callerAllowed } = require('./reference-subject-check');

const USER = { id: 1, name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0001' };

/** Fastify's request: the TLS socket is the raw request's. */
const fastifyCheck = (request) => callerAllowed(request.raw.socket);
/** Express's request is Node's own. */
const expressCheck = (request) => callerAllowed(request.socket);
/** Behind a sidecar that terminated mTLS: the subject it forwards (RFC 2253, nginx's $ssl_client_s_dn), per request. */
const SUBJECT = /^CN=home-page-service(,|$)/;
const forwardedCheck = (request) => {
  const subject = request.headers['x-ssl-client-s-dn'];
  return typeof subject === 'string' && SUBJECT.test(subject);
};

// Decorators applied by hand: this file is plain JavaScript.
const method = (cls, name) => Object.getOwnPropertyDescriptor(cls.prototype, name);

function referenceModule(check) {
  class SubjectGuard {
    canActivate(context) {
      return check(context.switchToHttp().getRequest());
    }
  }
  Injectable()(SubjectGuard);

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
  return AppModule;
}

/** Dies with the bench: stdin is a pipe from the parent; EOF means the parent is gone. Stops on SIGTERM/SIGINT. */
function serveUntilStopped(app) {
  const stop = () => app.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

module.exports = { referenceModule, fastifyCheck, expressCheck, forwardedCheck, serveUntilStopped };
