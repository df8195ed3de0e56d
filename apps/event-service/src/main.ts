import { NestFactory } from '@nestjs/core';
import { exitOnStartupError, logLevelsSetting, portSetting } from 'nest-mtls';
import { EventServiceModule } from './event-service.module';

async function bootstrap(): Promise<void> {
  const port = portSetting('PORT', process.env.PORT, 3001);
  const app = await NestFactory.create(EventServiceModule, { abortOnError: false, logger: logLevelsSetting('LOG_LEVEL', process.env.LOG_LEVEL) });
  // SIGHUP reloads the TLS material (MtlsModule); only these end the process.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await (process.env.HOST ? app.listen(port, process.env.HOST) : app.listen(port));
  console.log(`event-service listening on http://localhost:${port}`);
}

bootstrap().catch(exitOnStartupError('event-service'));
