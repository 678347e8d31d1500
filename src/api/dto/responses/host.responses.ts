import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DeviceDto, PasidRangeDto } from '../host.dto';
import { PageDto } from './page.responses';

/** Answers of the tenant, host, hardware and audit operations, described for OpenAPI. */

export class QuotasViewDto {
  @ApiProperty({ type: 'integer' })
  maxFds: number;
  @ApiProperty({ type: 'integer' })
  maxHostPasids: number;
}

export class TenantCreatedDto {
  @ApiProperty({ format: 'uuid' })
  tenantId: string;
  @ApiProperty()
  name: string;
  @ApiProperty({ type: QuotasViewDto })
  quotas: QuotasViewDto;
  @ApiPropertyOptional({ description: 'the bearer token, shown in the first answer only (not in an idempotent repeat)' })
  token?: string;
}

export class HostDto {
  @ApiProperty()
  hostId: string;
  @ApiProperty({ type: 'integer' })
  pasidBits: number;
  @ApiProperty()
  enqcmd: boolean;
  @ApiProperty()
  nestedPasidTable: boolean;
  /** The devices it has now: registered, then added or removed. */
  @ApiProperty({ type: [DeviceDto] })
  devices: DeviceDto[];
  @ApiProperty({ type: [PasidRangeDto], description: 'host PASIDs never handed to a VM' })
  reservedPasids: PasidRangeDto[];
  @ApiProperty({ description: 'no new fds or imports (409 HOST_CORDONED) until uncordoned; the open fds keep working' })
  cordoned: boolean;
  @ApiProperty({ description: 'retired: every command on the host is 409 HOST_DECOMMISSIONED; its history stays readable' })
  decommissioned: boolean;
  @ApiProperty({ type: 'integer' })
  version: number;
}

export class HostListDto extends PageDto {
  @ApiProperty({ type: [HostDto] })
  hosts: HostDto[];
}

export class AllocatorViewDto {
  @ApiProperty({ type: 'integer' })
  used: number;
  @ApiProperty({ type: 'integer', description: 'free host PASIDs, the reserved ones left out' })
  free: number;
  @ApiProperty({ type: [PasidRangeDto], description: "the host kernel's ranges, never handed to a VM" })
  reserved: PasidRangeDto[];
}

export class HardwareDto {
  @ApiProperty({ type: 'string', nullable: true })
  hostId: string | null;
  @ApiProperty({ type: 'integer' })
  version: number;
  @ApiProperty({ description: 'SHA-256 of the canonical hardware state' })
  hash: string;
  @ApiProperty({
    type: 'object',
    description: 'per RID: `context` ({table: "host"} or {table: "guest", gpa}) and `pasids` (PASID -> {fdId, ioasid, origin, pgtt, firstStageGpa, domainId})',
    additionalProperties: {
      type: 'object',
      required: ['context', 'pasids'],
      properties: {
        context: { type: 'object', required: ['table'], properties: { table: { type: 'string', enum: ['host', 'guest'] }, gpa: { type: 'string' } } },
        pasids: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['fdId', 'ioasid', 'origin', 'pgtt', 'firstStageGpa', 'domainId'],
            properties: {
              fdId: { type: 'string' },
              ioasid: { type: 'integer' },
              origin: { type: 'string', enum: ['local', 'global', 'real'] },
              pgtt: { type: 'string', enum: ['nested'] },
              firstStageGpa: { type: 'string' },
              domainId: { type: 'integer' },
            },
          },
        },
      },
    },
  })
  rids: Record<string, unknown>;
  @ApiProperty({
    type: 'object',
    description: 'per VM (vmId, or `<tenantId>/<vmId>` when two tenants use one vmId here): guest PASID -> host PASID',
    additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } },
  })
  vms: Record<string, Record<string, number>>;
  @ApiProperty({ type: AllocatorViewDto })
  allocator: AllocatorViewDto;
}

export class VerifyDto {
  @ApiProperty()
  ok: boolean;
  @ApiProperty({ type: 'integer', description: 'the last version replayed' })
  version: number;
  @ApiProperty({ description: 'the hardware hash of the replay at that version' })
  hash: string;
  @ApiPropertyOptional({ type: 'integer', description: 'the first event missing, altered or refused, or the live version that disagrees' })
  firstBadVersion?: number;
  @ApiPropertyOptional()
  reason?: string;
}

export class EventEnvelopeDto {
  @ApiProperty({ format: 'uuid' })
  eventId: string;
  @ApiProperty()
  hostId: string;
  @ApiProperty({ type: 'integer' })
  version: number;
  @ApiProperty({ example: 'HwidSet' })
  type: string;
  @ApiProperty({ type: 'integer' })
  schemaVersion: number;
  @ApiProperty({ format: 'date-time' })
  occurredAt: string;
  @ApiPropertyOptional()
  tenantId?: string;
  @ApiProperty({ description: '`operator` or `tenant:<tenantId>`' })
  actor: string;
  @ApiProperty()
  commandId: string;
  @ApiProperty()
  correlationId: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the event data (DOMAIN.md)' })
  data: Record<string, unknown>;
  @ApiProperty()
  prevHash: string;
  @ApiProperty()
  hash: string;
}

export class EventPageDto extends PageDto {
  @ApiProperty({ type: [EventEnvelopeDto] })
  events: EventEnvelopeDto[];
}
