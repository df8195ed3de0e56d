import { Controller, Get } from '@nestjs/common';
import { RequireClientCert } from 'nest-mtls';

/** Any caller with a trusted certificate may ask; no subject policy. */
@Controller('health')
@RequireClientCert()
export class HealthController {
  @Get()
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
