import { IntersectionType } from '@nestjs/swagger';
import { IdField, IntegerField, PatternField, UuidField } from './field-decorators';
import { PageQueryDto } from './page.dto';

/** The filter of the audit log and of the watch. */
export class EventFilterDto {
  @IdField({ optional: true })
  hostId?: string;

  @UuidField({ optional: true })
  fdId?: string;

  @PatternField(/^[A-Za-z]+$/, 64, { optional: true, example: 'HwidSet' })
  type?: string;

  @IntegerField(0, undefined, { optional: true, fromDigits: true })
  afterVersion?: number;
}

export class ListEventsQueryDto extends IntersectionType(EventFilterDto, PageQueryDto) {}

export class WatchEventsQueryDto extends EventFilterDto {
  @PatternField(/^[A-Za-z0-9_-]+$/, 128, { optional: true, description: 'a cursor (SSE id) received from a watch: resume right after it (REST: or Last-Event-ID)' })
  after?: string;
}
