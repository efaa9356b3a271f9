import type { RunView } from '@export/contracts';
import { Controller, Get, HttpCode, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { correlationIdOf } from '../http/correlation-id.middleware';
import { IdParam, openApiSchema } from '../http/id-param';
import { idempotencyKeyOf } from '../http/idempotency-key';
import { RunHistoryService, toRunView } from './run-history.service';
import { RunRequestBody, RunsService } from './runs.service';

@ApiTags('runs')
@ApiBearerAuth()
@UseGuards(UserAuthGuard)
@Controller('v1')
export class RunsController {
  constructor(
    private readonly runs: RunsService,
    private readonly history: RunHistoryService,
  ) {}

  /** Runs the export now, on the latest snapshot of each of its segments. */
  @Post('exports/:id/runs')
  @HttpCode(202)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Per export, kept 24 h: the same key answers with the same run and queues nothing new',
  })
  @ApiBody({ schema: openApiSchema(RunRequestBody), required: false })
  request(@CurrentPrincipal() principal: Principal, @IdParam('id') id: string, @Req() req: Request) {
    return this.runs.requestOnDemand(principal, id, correlationIdOf(req), idempotencyKeyOf(req), req.body);
  }

  @Get('exports/:id/runs')
  @ApiQuery({ name: 'limit', required: false, type: Number })
  list(
    @CurrentPrincipal() principal: Principal,
    @IdParam('id') id: string,
    @Query() query: unknown,
  ): Promise<RunView[]> {
    return this.history.listForExport(principal, id, query);
  }

  @Get('runs/:runId')
  get(@CurrentPrincipal() principal: Principal, @IdParam('runId') runId: string): Promise<RunView> {
    return this.history.get(principal, runId);
  }

  @Get('runs/:runId/rejections')
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiQuery({ name: 'cursor', required: false, type: String })
  rejections(
    @CurrentPrincipal() principal: Principal,
    @IdParam('runId') runId: string,
    @Query() query: unknown,
  ) {
    return this.history.rejections(principal, runId, query);
  }

  @Post('runs/:runId/cancel')
  @HttpCode(200)
  async cancel(
    @CurrentPrincipal() principal: Principal,
    @IdParam('runId') runId: string,
    @Req() req: Request,
  ): Promise<RunView> {
    return toRunView(await this.runs.cancel(principal, runId, correlationIdOf(req)));
  }
}
