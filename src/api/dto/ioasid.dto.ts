import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { GpaField, IdField, IntegerField, PatternField } from './field-decorators';
import { RID_PATTERN } from './formats';
import { MAX_VDEV_ID_LENGTH, VDEV_ID_PATTERN } from '../../model/values';

/** A body-less operation (alloc ioasid) still refuses fields it does not know. */
export class EmptyBodyDto {}

export class AttachDeviceDto {
  @PatternField(RID_PATTERN, 12, { example: '0000:3b:00.1' })
  rid: string;

  @ApiPropertyOptional({ default: false, description: 'the PASID is used by ENQCMD' })
  @IsOptional()
  @IsBoolean()
  enqcmd?: boolean;

  @PatternField(VDEV_ID_PATTERN, MAX_VDEV_ID_LENGTH, {
    optional: true,
    example: 'nic0',
    description: 'the guest-visible device id, unique within the fd and kept across migration; absent: the host assigns the lowest free vdev-<n>',
  })
  vdevId?: string;
}

export class DetachQueryDto {
  @IdField({ optional: true, description: 'siov: the mdev to destroy' })
  mdevId?: string;
}

/** Pasid table and page table: a guest-physical address. */
export class GpaDto {
  @GpaField()
  gpa: string;
}

export class SetHwidDto {
  @IntegerField(0, undefined, { example: 5, description: 'the user (guest) PASID' })
  pasid: number;
}

export class KvmPasidMappingDto {
  @IntegerField(0, undefined, { example: 1024 })
  hostPasid: number;
}
