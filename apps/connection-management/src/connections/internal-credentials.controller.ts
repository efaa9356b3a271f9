import { Controller, Get, Header, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentServiceCaller, ServiceAuthGuard, type ServiceCaller } from '../auth/service-auth.guard';
import { correlationIdOf } from '../http/correlation-id.middleware';
import { IdParam } from '../http/id-param';
import { ConnectionsService, type ConnectionCredentials } from './connections.service';

/**
 * For the delivery service (internal listener, service token): the decrypted key of a connection, for one
 * active run that delivers through it. Every decryption is audited; the answer is never cached by proxies.
 */
@ApiTags('internal')
@ApiBearerAuth()
@UseGuards(ServiceAuthGuard)
@Controller('internal/v1/connections')
export class InternalCredentialsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Get(':connectionId/credentials')
  @Header('Cache-Control', 'no-store')
  @ApiQuery({ name: 'tenantId', required: true, type: String })
  @ApiQuery({ name: 'runId', required: true, type: String })
  credentials(
    @CurrentServiceCaller() caller: ServiceCaller,
    @IdParam('connectionId') connectionId: string,
    @Query() query: unknown,
    @Req() req: Request,
  ): Promise<ConnectionCredentials> {
    return this.connections.credentialsForRun(caller, connectionId, query, correlationIdOf(req));
  }
}
