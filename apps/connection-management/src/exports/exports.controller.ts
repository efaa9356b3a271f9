import type { ExportView } from '@export/contracts';
import { Body, Controller, Delete, Get, HttpCode, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { IdParam, openApiSchema } from '../http/id-param';
import { CreateExportBody, UpdateExportBody } from './export.schemas';
import { ExportsService } from './exports.service';

@ApiTags('exports')
@ApiBearerAuth()
@UseGuards(UserAuthGuard)
@Controller('v1/exports')
export class ExportsController {
  constructor(private readonly exportsService: ExportsService) {}

  @Post()
  @ApiBody({ schema: openApiSchema(CreateExportBody) })
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<ExportView> {
    return this.exportsService.create(principal, body);
  }

  @Get()
  list(@CurrentPrincipal() principal: Principal): Promise<ExportView[]> {
    return this.exportsService.list(principal);
  }

  @Get(':id')
  get(@CurrentPrincipal() principal: Principal, @IdParam('id') id: string): Promise<ExportView> {
    return this.exportsService.get(principal, id);
  }

  @Patch(':id')
  @ApiBody({ schema: openApiSchema(UpdateExportBody) })
  update(
    @CurrentPrincipal() principal: Principal,
    @IdParam('id') id: string,
    @Body() body: unknown,
  ): Promise<ExportView> {
    return this.exportsService.update(principal, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@CurrentPrincipal() principal: Principal, @IdParam('id') id: string): Promise<void> {
    return this.exportsService.remove(principal, id);
  }
}
