import { IdField, IntegerField, PatternField, UuidField } from './field-decorators';
import { MAX_EVENT_PAGE_SIZE, MAX_PAGE_TOKEN_LENGTH } from './formats';

export class ListEventsQueryDto {
  @IdField({ optional: true })
  hostId?: string;

  @UuidField({ optional: true })
  fdId?: string;

  @PatternField(/^[A-Za-z]+$/, 64, { optional: true, example: 'HwidSet' })
  type?: string;

  @IntegerField(0, undefined, { optional: true, fromDigits: true })
  afterVersion?: number;

  @IntegerField(1, MAX_EVENT_PAGE_SIZE, { optional: true, fromDigits: true })
  pageSize?: number;

  @PatternField(/^[A-Za-z0-9._~+/=-]+$/, MAX_PAGE_TOKEN_LENGTH, { optional: true })
  pageToken?: string;
}
