import { NestFactory } from '@nestjs/core';
import type { AddressInfo, Server } from 'node:net';
import { MtlsExpressAdapter, exitOnStartupError, logLevelsSetting, portSetting } from 'nest-mtls';
import { mtlsTcpMicroservice } from 'nest-mtls/microservices';
import { UserServiceModule } from './user-service.module';

async function bootstrap(): Promise<void> {
  const port = portSetting('PORT', process.env.PORT, 8443);
  // Unset (or empty): no TCP listener, so several instances can run side by side with only PORT set.
  const tcpPort = process.env.TCP_PORT?.trim() ? portSetting('TCP_PORT', process.env.TCP_PORT, 8444) : undefined;
  // The adapter serves HTTPS with the material MtlsModule loaded; no httpsOptions here.
  const app = await NestFactory.create(UserServiceModule, new MtlsExpressAdapter(), { abortOnError: false, logger: logLevelsSetting('LOG_LEVEL', process.env.LOG_LEVEL) });
  // SIGHUP reloads the TLS material (MtlsModule); only these end the process.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  if (tcpPort !== undefined) {
    // Nest's TCP transport over mutual TLS with the same material (and the same rotation) as HTTPS.
    // `host: undefined` listens on every interface, as the HTTP server does without HOST.
    app.connectMicroservice(mtlsTcpMicroservice({ port: tcpPort, host: process.env.HOST || undefined }), { inheritAppConfig: true });
    await app.startAllMicroservices();
  }
  await (process.env.HOST ? app.listen(port, process.env.HOST) : app.listen(port));
  const tcpServer = tcpPort !== undefined ? app.getMicroservices()[0].unwrap<Server>() : undefined;
  const tcp = tcpServer ? ` and tcp://localhost:${(tcpServer.address() as AddressInfo).port} (Nest microservice over mTLS)` : '';
  console.log(`user-service listening on https://localhost:${port}${tcp} (client certificate required)`);
}

bootstrap().catch(exitOnStartupError('user-service'));
