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
import { EventServiceModule } from './event-service.module';

async function bootstrap(): Promise<void> {
  const port = portSetting('PORT', process.env.PORT, 3001);
  const timeoutMs = millisecondsSetting('SHUTDOWN_TIMEOUT_MS', process.env.SHUTDOWN_TIMEOUT_MS, 10_000);
  // LOG_FORMAT=json: one JSON object per line.
  const logger = new MtlsConsoleLogger({ json: logFormatSetting('LOG_FORMAT', process.env.LOG_FORMAT) === 'json', logLevels: logLevelsSetting('LOG_LEVEL', process.env.LOG_LEVEL) });
  // Plain HTTP; the mTLS side is the outbound client (refused by user-service's policy).
  const app = await NestFactory.create(EventServiceModule, { abortOnError: false, logger });
  // SIGTERM/SIGINT: stop accepting (HTTP, admin), let requests in flight (and their calls to user-service) finish, close, exit.
  // SIGHUP reloads the TLS material.
  enableGracefulShutdown(app, { timeoutMs });
  await (process.env.HOST ? app.listen(port, process.env.HOST) : app.listen(port));
  announce(logger, `event-service listening on http://localhost:${port}`);
}

/** The line that says the service is up: a plain line, or a JSON record when logging JSON. */
function announce(logger: MtlsConsoleLogger, line: string): void {
  if (process.env.LOG_FORMAT?.trim().toLowerCase() === 'json') logger.log(line, 'event-service');
  else console.log(line);
}

bootstrap().catch(exitOnStartupError('event-service', { json: process.env.LOG_FORMAT?.trim().toLowerCase() === 'json' }));
