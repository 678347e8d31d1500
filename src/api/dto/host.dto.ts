import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, ValidateNested } from 'class-validator';
import { IdField, IntegerField, PatternField } from './field-decorators';
import { MAX_DEVICES_PER_HOST, MAX_PASID_BITS, MAX_RESERVED_RANGES, RID_PATTERN } from './formats';

const MAX_PASID = 2 ** MAX_PASID_BITS;

export class DeviceDto {
  @PatternField(RID_PATTERN, 12, { example: '0000:3b:00.1' })
  rid: string;

  @ApiProperty({ enum: ['vf', 'siov'] })
  @IsIn(['vf', 'siov'])
  kind: 'vf' | 'siov';

  @IntegerField(1, MAX_PASID_BITS, { example: 20 })
  pasidBits: number;
}

/** A range of host PASIDs [from, from + count). */
export class PasidRangeDto {
  @IntegerField(1, MAX_PASID - 1, { example: 1 })
  from: number;

  @IntegerField(1, MAX_PASID - 1, { example: 64 })
  count: number;
}

export class RegisterHostDto {
  @IdField({ example: 'host-a' })
  hostId: string;

  @IntegerField(1, MAX_PASID_BITS, { example: 20 })
  pasidBits: number;

  @ApiProperty({ description: 'CPUs with ENQCMD and VMX PASID translation' })
  @IsBoolean()
  enqcmd: boolean;

  @ApiProperty({ description: 'the IOMMU can walk a guest-owned PASID table' })
  @IsBoolean()
  nestedPasidTable: boolean;

  @ApiProperty({ type: [DeviceDto] })
  @IsArray()
  @ArrayMaxSize(MAX_DEVICES_PER_HOST)
  @ValidateNested({ each: true })
  @Type(() => DeviceDto)
  devices: DeviceDto[];

  @ApiPropertyOptional({
    type: [PasidRangeDto],
    description: "the host kernel's own PASIDs (in-kernel ENQCMDS work queues, host SVA): never handed to a VM; inside [1, 2^pasidBits), not overlapping (else 422 INVALID_RANGE)",
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_RESERVED_RANGES)
  @ValidateNested({ each: true })
  @Type(() => PasidRangeDto)
  reservedPasids?: PasidRangeDto[];
}

export class HardwareQueryDto {
  @IntegerField(0, undefined, { optional: true, fromDigits: true, description: 'the state as of this event version' })
  version?: number;
}
