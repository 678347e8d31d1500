import { ApiProperty } from '@nestjs/swagger';
import { API_ERROR_CODES } from '../../errors/error-table';

export class ErrorDto {
  @ApiProperty({ enum: API_ERROR_CODES, description: 'the stable code (docs/API.md "Errors")' })
  code: string;
  @ApiProperty({ description: 'for people' })
  message: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'for programs; VALIDATION_FAILED lists `fields: [{field, message}]`' })
  details: Record<string, unknown>;
}

/** The body of every error answer. */
export class ErrorBodyDto {
  @ApiProperty({ type: ErrorDto })
  error: ErrorDto;
}
