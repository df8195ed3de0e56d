import { NestFactory } from '@nestjs/core';
import {
  MtlsConsoleLogger,
  enableGracefulShutdown,
  exitOnStartupError,
  logFormatSetting,
  logLevelsSetting,
  millisecondsSetting,
  portSetting,
} from 'nest-mtls/app';
import { HomePageModule } from './home-page.module';

async function bootstrap(): Promise<void> {
  const port = portSetting('PORT', process.env.PORT, 3000);
  const timeoutMs = millisecondsSetting('SHUTDOWN_TIMEOUT_MS', process.env.SHUTDOWN_TIMEOUT_MS, 10_000);
  // LOG_FORMAT=json: one JSON object per line.
  const logger = new MtlsConsoleLogger({ json: logFormatSetting('LOG_FORMAT', process.env.LOG_FORMAT) === 'json', logLevels: logLevelsSetting('LOG_LEVEL', process.env.LOG_LEVEL) });
  // Plain HTTP for browsers; the mTLS side is the outbound client.
  const app = await NestFactory.create(HomePageModule, { abortOnError: false, logger });
  // SIGTERM/SIGINT: stop accepting (HTTP, admin), let requests in flight (and their calls to user-service) finish, close, exit.
  // SIGHUP reloads the TLS material.
  enableGracefulShutdown(app, { timeoutMs });
  await (process.env.HOST ? app.listen(port, process.env.HOST) : app.listen(port));
  announce(logger, `home-page-service listening on http://localhost:${port}`);
}

/** The line that says the service is up: a plain line, or a JSON record when logging JSON. */
function announce(logger: MtlsConsoleLogger, line: string): void {
  if (process.env.LOG_FORMAT?.trim().toLowerCase() === 'json') logger.log(line, 'home-page-service');
  else console.log(line);
}

bootstrap().catch(exitOnStartupError('home-page-service', { json: process.env.LOG_FORMAT?.trim().toLowerCase() === 'json' }));
