import { AppError } from '@export/errors';
import { Controller, Get, Header, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ServiceAuthGuard } from '../auth/service-auth.guard';
import { IdParam } from '../http/id-param';
import { ConnectionsService, type ConnectionCredentials } from './connections.service';

/** For the delivery service: the decrypted key of a connection. Service tokens only; never cached by proxies. */
@ApiTags('internal')
@ApiBearerAuth()
@UseGuards(ServiceAuthGuard)
@Controller('internal/v1/connections')
export class InternalCredentialsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Get(':connectionId/credentials')
  @Header('Cache-Control', 'no-store')
  credentials(
    @IdParam('connectionId') connectionId: string,
    @Query('tenantId') tenantId?: string,
  ): Promise<ConnectionCredentials> {
    if (!tenantId) throw new AppError('validation', 'tenantId: required', { field: 'tenantId' });
    return this.connections.credentials(tenantId, connectionId);
  }
}
