import { Controller, Get, Header, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ServiceAuthGuard } from '../auth/service-auth.guard';
import { IdParam } from '../http/id-param';
import { InternalRunsService, tenantOfQuery, type RunConfirmation } from './internal-runs.service';

/**
 * For the pipeline's stages (internal listener, service token): the run as the control plane knows it, so a
 * stage takes tenant, connection, limits and quota from here and not from a Kafka message.
 */
@ApiTags('internal')
@ApiBearerAuth()
@UseGuards(ServiceAuthGuard)
@Controller('internal/v1/runs')
export class InternalRunsController {
  constructor(private readonly runs: InternalRunsService) {}

  @Get(':runId')
  @Header('Cache-Control', 'no-store')
  @ApiQuery({ name: 'tenantId', required: true, type: String })
  confirm(@IdParam('runId') runId: string, @Query() query: unknown): Promise<RunConfirmation> {
    return this.runs.confirm(tenantOfQuery(query), runId);
  }
}
