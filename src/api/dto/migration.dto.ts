import { ApiProperty } from '@nestjs/swagger';
import { IsObject, ValidateBy, type ValidationArguments } from 'class-validator';
import { IdField, UuidField } from './field-decorators';
import { MAX_DEVICES_PER_HOST, RID_PATTERN } from './formats';

/** Why a device map is unusable, or undefined when it is fine. */
function deviceMapProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object of source RID -> target RID';
  const entries = Object.entries(value);
  if (entries.length > MAX_DEVICES_PER_HOST) return `must have at most ${MAX_DEVICES_PER_HOST} entries`;
  // Well-formed RIDs only: whether the map fits the fd and the hosts (one-to-one, complete, kinds, widths)
  // is the target decider's to say, with DEVICE_MAP_INVALID naming every offending entry.
  for (const [source, target] of entries) {
    if (!RID_PATTERN.test(source)) return `key "${source.slice(0, 32)}" must be a RID like 0000:3b:00.1`;
    if (typeof target !== 'string' || !RID_PATTERN.test(target)) return `value of ${source} must be a RID like 0000:3b:00.1`;
  }
  return undefined;
}

/** A migration's device map: source RID -> target RID, every RID well-formed, bounded in size. */
function DeviceMapField(): PropertyDecorator {
  return ValidateBy({
    name: 'isDeviceMap',
    validator: {
      validate: (value: unknown) => deviceMapProblem(value) === undefined,
      defaultMessage: (args?: ValidationArguments) => `$property ${deviceMapProblem(args?.value) ?? 'is invalid'}`,
    },
  });
}

export class MigrateFdDto {
  @IdField({ example: 'host-b', description: 'the host the fd moves to' })
  targetHostId: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', pattern: RID_PATTERN.source },
    maxProperties: MAX_DEVICES_PER_HOST,
    example: { '0000:3b:00.1': '0000:5e:00.1' },
    description: 'source RID -> target RID: one-to-one, covering every device attached to the fd, each target of the same kind and at least as wide (else 422 DEVICE_MAP_INVALID naming each offending entry)',
  })
  @IsObject()
  @DeviceMapField()
  deviceMap: Record<string, string>;
}

export class MigrationPathDto {
  @UuidField()
  migrationId: string;
}
