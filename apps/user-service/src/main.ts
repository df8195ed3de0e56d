import { NestFactory } from '@nestjs/core';
import { exitOnStartupError, logLevelsSetting, portSetting } from 'nest-mtls';
import { createMtlsAdapter, httpAdapterSetting } from './http-adapter';
import { UserServiceModule } from './user-service.module';

async function bootstrap(): Promise<void> {
  const port = portSetting('PORT', process.env.PORT, 8443);
  // The adapter (HTTP_ADAPTER: express or fastify) serves HTTPS with the material MtlsModule loaded; no httpsOptions here.
  const adapter = await createMtlsAdapter(httpAdapterSetting('HTTP_ADAPTER', process.env.HTTP_ADAPTER));
  const app = await NestFactory.create(UserServiceModule, adapter, { abortOnError: false, logger: logLevelsSetting('LOG_LEVEL', process.env.LOG_LEVEL) });
  // SIGHUP reloads the TLS material (MtlsModule); only these end the process.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await (process.env.HOST ? app.listen(port, process.env.HOST) : app.listen(port));
  console.log(`user-service listening on https://localhost:${port} (client certificate required)`);
}

bootstrap().catch(exitOnStartupError('user-service'));
