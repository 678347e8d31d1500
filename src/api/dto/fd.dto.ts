import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { IdField, IntegerField } from './field-decorators';
import { PageQueryDto } from './page.dto';

export class CreateFdDto {
  @IdField({ example: 'host-a' })
  hostId: string;

  @IdField({ example: 'vm-1' })
  vmId: string;

  @IdField({ optional: true, description: 'the owning tenant: required of the operator; a tenant may only name itself' })
  tenantId?: string;
}

export class ListFdsQueryDto extends PageQueryDto {
  @IdField({ optional: true })
  hostId?: string;
}

export class SetHwidModeDto {
  @ApiProperty({ enum: ['local', 'global'] })
  @IsIn(['local', 'global'])
  mode: 'local' | 'global';
}

export class SetGlobalMinDto {
  @IntegerField(0, undefined, { example: 1024, description: 'first global PASID; local PASIDs are below it' })
  globalMin: number;
}
