import { IdField, IntegerField, PatternField, UuidField } from './field-decorators';
import { RID_PATTERN } from './formats';

/** Path parameters, validated like bodies: an ioasid that is not an integer is VALIDATION_FAILED. */

export class HostPathDto {
  @IdField()
  hostId: string;
}

export class HostDevicePathDto extends HostPathDto {
  @PatternField(RID_PATTERN, 12)
  rid: string;
}

export class FdPathDto {
  @UuidField()
  fdId: string;
}

export class IoasidPathDto extends FdPathDto {
  @IntegerField(0, undefined, { fromDigits: true })
  ioasid: number;
}

export class AttachmentPathDto extends IoasidPathDto {
  @PatternField(RID_PATTERN, 12)
  rid: string;
}

export class KvmMappingPathDto extends FdPathDto {
  @IntegerField(0, undefined, { fromDigits: true })
  guestPasid: number;
}
