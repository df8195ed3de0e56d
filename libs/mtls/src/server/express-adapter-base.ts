import type { ExpressAdapter } from '@nestjs/platform-express';
import { MtlsConfigError } from '../errors/mtls-config.error';

/**
 * Nest's ExpressAdapter, loaded when this module loads, or, when
 * @nestjs/platform-express is not installed (an optional peer: a Fastify or
 * microservice-only application has no need of it), a stand-in that says how
 * to install it when someone constructs MtlsExpressAdapter. So the main
 * entry point of nest-mtls loads without it.
 */
export const ExpressAdapterBase: typeof ExpressAdapter = loadExpressAdapter();

function loadExpressAdapter(): typeof ExpressAdapter {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('@nestjs/platform-express') as typeof import('@nestjs/platform-express')).ExpressAdapter;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /@nestjs\/platform-express/.test((err as Error).message);
    if (!missing) throw err;
    return class ExpressNotInstalled {
      constructor() {
        throw new MtlsConfigError('MtlsExpressAdapter', 'needs @nestjs/platform-express, which is not installed: npm i @nestjs/platform-express (or serve with MtlsFastifyAdapter)');
      }
    } as unknown as typeof ExpressAdapter;
  }
}
