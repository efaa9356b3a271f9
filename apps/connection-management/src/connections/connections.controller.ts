import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiQuery, ApiTags } from '@nestjs/swagger';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { IdParam, openApiSchema } from '../http/id-param';
import { CreateConnectionBody, UpdateConnectionBody } from './connection.schemas';
import { ConnectionsService, type ConnectionView } from './connections.service';

@ApiTags('connections')
@ApiBearerAuth()
@UseGuards(UserAuthGuard)
@Controller('v1/connections')
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Post()
  @ApiBody({ schema: openApiSchema(CreateConnectionBody) })
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<ConnectionView> {
    return this.connections.create(principal, body);
  }

  @Get()
  list(@CurrentPrincipal() principal: Principal): Promise<ConnectionView[]> {
    return this.connections.list(principal);
  }

  @Get(':id')
  get(@CurrentPrincipal() principal: Principal, @IdParam('id') id: string): Promise<ConnectionView> {
    return this.connections.get(principal, id);
  }

  @Patch(':id')
  @ApiBody({ schema: openApiSchema(UpdateConnectionBody) })
  update(
    @CurrentPrincipal() principal: Principal,
    @IdParam('id') id: string,
    @Body() body: unknown,
  ): Promise<ConnectionView> {
    return this.connections.update(principal, id, body);
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiQuery({ name: 'detach', required: false, type: Boolean })
  remove(
    @CurrentPrincipal() principal: Principal,
    @IdParam('id') id: string,
    @Query('detach') detach?: string,
  ): Promise<{ detachedExports: number }> {
    return this.connections.remove(principal, id, detach === 'true' || detach === '1');
  }
}
