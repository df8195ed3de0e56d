// A minimal mTLS service for the key-exchange group tests, in plain JavaScript so that any Node binary
// (the Node 24 one under a suite running on Node 22) can run it from the built package: MtlsModule from the
// MTLS_* variables, GET /tls answers the request's @TlsConnection(), debug logging on.
// Prints `listening on <port>` once it listens; a bad setting exits with one line (exitOnStartupError).
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { MtlsExpressAdapter, MtlsModule, TlsConnection, mtlsOptionsFromEnv } = require('nest-mtls');
const { MtlsConsoleLogger, exitOnStartupError } = require('nest-mtls/app');

class TlsController {
  tls(info) {
    return info;
  }
}
TlsConnection()(TlsController.prototype, 'tls', 0);
Get('tls')(TlsController.prototype, 'tls', Object.getOwnPropertyDescriptor(TlsController.prototype, 'tls'));
Controller()(TlsController);

async function main() {
  class AppModule {}
  Module({ imports: [MtlsModule.forRoot(mtlsOptionsFromEnv())], controllers: [TlsController] })(AppModule);
  const logger = new MtlsConsoleLogger({ logLevels: ['log', 'warn', 'error', 'debug'] });
  const app = await NestFactory.create(AppModule, new MtlsExpressAdapter(), { abortOnError: false, logger });
  await app.listen(0, '127.0.0.1');
  console.log(`listening on ${app.getHttpServer().address().port}`);
}

main().catch(exitOnStartupError('groups-app'));
