import type { Snapshot } from '@export/contracts';
import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { SegmentsRepository } from './segments.repository';

export interface SegmentView {
  id: string;
  name: string;
  memberCount: number;
  snapshot: Snapshot;
  refreshedAt: string;
}

/** Segments appear here when a segment-refreshed event for them arrives. */
@ApiTags('segments')
@ApiBearerAuth()
@UseGuards(UserAuthGuard)
@Controller('v1/segments')
export class SegmentsController {
  constructor(private readonly segments: SegmentsRepository) {}

  @Get()
  async list(@CurrentPrincipal() principal: Principal): Promise<SegmentView[]> {
    return (await this.segments.list(principal.tenantId)).map((s) => ({
      id: s.id,
      name: s.name,
      memberCount: s.memberCount,
      snapshot: s.snapshot,
      refreshedAt: s.occurredAt.toISOString(),
    }));
  }
}
