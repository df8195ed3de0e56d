import { NestFactory } from '@nestjs/core';
import type { AddressInfo, Server } from 'node:net';
import {
  MtlsConsoleLogger,
  enableGracefulShutdown,
  exitOnStartupError,
  logFormatSetting,
  logLevelsSetting,
  millisecondsSetting,
  portSetting,
} from 'nest-mtls/app';
import { mtlsGrpcMicroservice } from 'nest-mtls/grpc';
import { mtlsTcpMicroservice } from 'nest-mtls/microservices';
import { createMtlsAdapter, http2Setting, httpAdapterSetting } from './http-adapter';
import { WsAdapter } from '@nestjs/platform-ws';
import { UserServiceAppModule } from './user-service-app.module';
import { USERS_PROTO } from './users-grpc.controller';

async function bootstrap(): Promise<void> {
  const port = portSetting('PORT', process.env.PORT, 8443);
  // Unset (or empty): no TCP listener, so several instances can run side by side with only PORT set.
  const tcpPort = process.env.TCP_PORT?.trim() ? portSetting('TCP_PORT', process.env.TCP_PORT, 8444) : undefined;
  // Unset (or empty): no gRPC listener. Set: users.UserService/GetUser (users.proto) over mutual TLS.
  const grpcPort = process.env.GRPC_PORT?.trim() ? portSetting('GRPC_PORT', process.env.GRPC_PORT, 8445) : undefined;
  const timeoutMs = millisecondsSetting('SHUTDOWN_TIMEOUT_MS', process.env.SHUTDOWN_TIMEOUT_MS, 10_000);
  // LOG_FORMAT=json: one JSON object per line; refusals carry reason, peer, subject and route as fields.
  const logger = new MtlsConsoleLogger({ json: logFormatSetting('LOG_FORMAT', process.env.LOG_FORMAT) === 'json', logLevels: logLevelsSetting('LOG_LEVEL', process.env.LOG_LEVEL) });
  // The adapter (HTTP_ADAPTER: express or fastify) serves HTTPS with the material MtlsModule loaded; no httpsOptions here.
  const adapterName = httpAdapterSetting('HTTP_ADAPTER', process.env.HTTP_ADAPTER);
  // HTTP2=true (Fastify only): HTTP/2 over TLS, HTTP/1.1 on the same port for clients that do not offer h2 (ALPN).
  const http2 = http2Setting('HTTP2', process.env.HTTP2, adapterName);
  const adapter = await createMtlsAdapter(adapterName, http2);
  const app = await NestFactory.create(UserServiceAppModule, adapter, { abortOnError: false, logger });
  // The users gateway (wss://…/ws) on the same mTLS port: the `ws` adapter, the guard judges every message.
  app.useWebSocketAdapter(new WsAdapter(app));
  // SIGTERM/SIGINT: stop accepting (HTTPS, TCP, admin), let requests in flight finish, close, exit. SIGHUP reloads the TLS material.
  enableGracefulShutdown(app, { timeoutMs });
  if (tcpPort !== undefined) {
    // Nest's TCP transport over mutual TLS with the same material (and the same rotation) as HTTPS.
    // `host: undefined` listens on every interface, as the HTTP server does without HOST.
    app.connectMicroservice(mtlsTcpMicroservice({ port: tcpPort, host: process.env.HOST || undefined }), { inheritAppConfig: true });
  }
  if (grpcPort !== undefined) {
    // Nest's gRPC transport over mutual TLS with the same material, rotation, revocation and guard.
    const host = process.env.HOST ? (process.env.HOST.includes(':') ? `[${process.env.HOST}]` : process.env.HOST) : '0.0.0.0';
    app.connectMicroservice(mtlsGrpcMicroservice({ url: `${host}:${grpcPort}`, package: 'users', protoPath: USERS_PROTO }), { inheritAppConfig: true });
  }
  if (tcpPort !== undefined || grpcPort !== undefined) await app.startAllMicroservices();
  await (process.env.HOST ? app.listen(port, process.env.HOST) : app.listen(port));
  const tcpServer = tcpPort !== undefined ? app.getMicroservices()[0].unwrap<Server>() : undefined;
  const tcp = tcpServer ? ` and tcp://localhost:${(tcpServer.address() as AddressInfo).port} (Nest microservice over mTLS)` : '';
  const grpc = grpcPort !== undefined ? ` and localhost:${grpcPort} (gRPC users.UserService over mTLS)` : '';
  const protocols = http2 ? ' (HTTP/2 and HTTP/1.1)' : '';
  announce(logger, `user-service listening on https://localhost:${port}${protocols} and wss://localhost:${port}/ws${tcp}${grpc} (client certificate required)`);
}

/** The line that says the service is up: a plain line, or a JSON record when logging JSON. */
function announce(logger: MtlsConsoleLogger, line: string): void {
  if (process.env.LOG_FORMAT?.trim().toLowerCase() === 'json') logger.log(line, 'user-service');
  else console.log(line);
}

bootstrap().catch(exitOnStartupError('user-service', { json: process.env.LOG_FORMAT?.trim().toLowerCase() === 'json' }));
