import { Body, Controller, Get, Param, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { openApiSchema } from '../http/id-param';
import { QuotaBody, QuotasService, type QuotaView } from './quotas.service';

@ApiTags('quotas')
@ApiBearerAuth()
@UseGuards(UserAuthGuard)
@Controller('v1/tenants/:tenantId/quota')
export class QuotasController {
  constructor(private readonly quotas: QuotasService) {}

  @Get()
  get(@CurrentPrincipal() principal: Principal, @Param('tenantId') tenantId: string): Promise<QuotaView> {
    return this.quotas.get(principal, tenantId);
  }

  /** Operators only. */
  @Put()
  @ApiBody({ schema: openApiSchema(QuotaBody) })
  set(
    @CurrentPrincipal() principal: Principal,
    @Param('tenantId') tenantId: string,
    @Body() body: unknown,
  ): Promise<QuotaView> {
    return this.quotas.set(principal, tenantId, body);
  }
}
