import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { PageDto } from './page.responses';

/** Answers of the fd operations: the shapes of src/domain/views.ts, described for OpenAPI. */

export class AttachmentViewDto {
  @ApiProperty({ example: 'vdev-1', description: 'the guest-visible device id: unique within the fd, kept across migration' })
  vdevId: string;
  @ApiProperty({ example: '0000:3b:00.1' })
  rid: string;
  @ApiProperty()
  enqcmd: boolean;
  @ApiPropertyOptional({ description: 'siov: the mdev made by this attach' })
  mdevId?: string;
}

export class IoasidViewDto {
  @ApiProperty({ type: 'integer' })
  ioasid: number;
  @ApiPropertyOptional({ type: 'integer', description: 'the user (guest) PASID, once set' })
  pasid?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'global mode: the host-decided global PASID' })
  globalPasid?: number;
  @ApiPropertyOptional({ example: '0x7f0000' })
  pgtableGpa?: string;
  @ApiPropertyOptional({ example: '0x7f0000' })
  pasidTableGpa?: string;
  @ApiProperty({ type: [AttachmentViewDto] })
  attachments: AttachmentViewDto[];
}

export class KvmMappingDto {
  @ApiProperty({ type: 'integer', example: 5 })
  guestPasid: number;
  @ApiProperty({ type: 'integer', example: 1024 })
  hostPasid: number;
}

export class FdDto {
  @ApiProperty({ format: 'uuid' })
  fdId: string;
  @ApiProperty()
  tenantId: string;
  @ApiProperty()
  hostId: string;
  @ApiProperty()
  vmId: string;
  @ApiProperty({ type: 'string', enum: ['local', 'global'], nullable: true })
  hwidMode: 'local' | 'global' | null;
  @ApiProperty({ type: 'integer', nullable: true })
  globalMin: number | null;
  @ApiProperty()
  migratable: boolean;
  @ApiPropertyOptional({ description: 'why the fd can no longer migrate' })
  migratableReason?: string;
  @ApiPropertyOptional({ description: 'the target host, while a migration holds the fd frozen' })
  migratingTo?: string;
  @ApiProperty({ type: [IoasidViewDto] })
  ioasids: IoasidViewDto[];
  @ApiProperty({ type: [KvmMappingDto] })
  kvmMappings: KvmMappingDto[];
  @ApiProperty({ type: 'integer', description: 'the host stream version this view was read at' })
  version: number;
}

export class FdListDto extends PageDto {
  @ApiProperty({ type: [FdDto] })
  fds: FdDto[];
}

export class AllocatedIoasidDto {
  @ApiProperty({ type: 'integer' })
  ioasid: number;
}

/** The attachment an attach made: the fd view's attachment, with its ioasid. */
export class AttachmentDto extends AttachmentViewDto {
  @ApiProperty({ type: 'integer' })
  ioasid: number;
}

export class HwidDto {
  @ApiProperty({ type: 'integer' })
  ioasid: number;
  @ApiProperty({ type: 'integer' })
  pasid: number;
  @ApiPropertyOptional({ type: 'integer', description: 'global mode: the global PASID the host decided' })
  globalPasid?: number;
}

/** A hwid as get hwid reads it: with the PASID the host programs. */
export class HostHwidDto extends PickType(HwidDto, ['ioasid', 'pasid'] as const) {
  @ApiProperty({ type: 'integer', description: 'the PASID the VMM programs: global, real (local siov) or the user PASID' })
  hostPasid: number;
}

export class MigrationStartedDto {
  @ApiProperty({ format: 'uuid' })
  migrationId: string;
  @ApiProperty({ enum: ['completed'] })
  state: 'completed';
  @ApiProperty({ format: 'uuid', description: 'the fd on the target host' })
  targetFdId: string;
}

export class MigrationDto {
  @ApiProperty({ format: 'uuid' })
  migrationId: string;
  @ApiProperty({ format: 'uuid' })
  fdId: string;
  @ApiProperty()
  sourceHostId: string;
  @ApiProperty()
  targetHostId: string;
  @ApiProperty({ enum: ['running', 'completed', 'aborted'] })
  state: 'running' | 'completed' | 'aborted';
  @ApiPropertyOptional({ format: 'uuid', description: 'set once the target has imported the fd' })
  targetFdId?: string;
  @ApiPropertyOptional({ description: 'why it was aborted' })
  reason?: string;
  @ApiProperty({ format: 'date-time' })
  startedAt: string;
  @ApiPropertyOptional({ format: 'date-time' })
  endedAt?: string;
}
