import { ForbiddenException } from '@nestjs/common';

/** 403 with exactly `{"statusCode":403,"message":...}`: no policy, no DN, no hints. */
export class ClientCertForbiddenException extends ForbiddenException {
  constructor(message: string) {
    super({ statusCode: 403, message });
  }
}
