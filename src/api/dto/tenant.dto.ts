import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, ValidateNested } from 'class-validator';
import { IntegerField, PatternField } from './field-decorators';
import { MAX_NAME_LENGTH, MAX_PASID_BITS } from './formats';

/** Per tenant, per host (DOMAIN.md I8); omitted ones take the defaults. */
export class QuotasDto {
  @IntegerField(0, 1_000_000, { optional: true, description: 'open fds per host' })
  maxFds?: number;

  @IntegerField(0, 2 ** MAX_PASID_BITS, { optional: true, description: 'host-allocated PASIDs per host' })
  maxHostPasids?: number;
}

export class CreateTenantDto {
  // No control characters (NUL cannot even be stored in PostgreSQL text), no blanks at either end. The control
  // characters (Unicode Cc) are spelled as ranges: OpenAPI tools read patterns without Unicode property escapes.
  @PatternField(/^[^\s\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$/, MAX_NAME_LENGTH, { description: 'display name', example: 'acme' })
  name: string;

  @ApiPropertyOptional({ type: QuotasDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => QuotasDto)
  quotas?: QuotasDto;
}
