import { NestFactory } from '@nestjs/core';
import { exitOnStartupError, logLevelsSetting, portSetting } from 'nest-mtls';
import { HomePageModule } from './home-page.module';

async function bootstrap(): Promise<void> {
  const port = portSetting('PORT', process.env.PORT, 3000);
  // Plain HTTP for browsers; the mTLS side is the outbound client.
  const app = await NestFactory.create(HomePageModule, { abortOnError: false, logger: logLevelsSetting('LOG_LEVEL', process.env.LOG_LEVEL) });
  // SIGHUP reloads the TLS material (MtlsModule); only these end the process.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await (process.env.HOST ? app.listen(port, process.env.HOST) : app.listen(port));
  console.log(`home-page-service listening on http://localhost:${port}`);
}

bootstrap().catch(exitOnStartupError('home-page-service'));
