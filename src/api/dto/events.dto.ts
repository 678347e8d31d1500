import { IdField, IntegerField, PatternField, UuidField } from './field-decorators';
import { PageQueryDto } from './page.dto';

export class ListEventsQueryDto extends PageQueryDto {
  @IdField({ optional: true })
  hostId?: string;

  @UuidField({ optional: true })
  fdId?: string;

  @PatternField(/^[A-Za-z]+$/, 64, { optional: true, example: 'HwidSet' })
  type?: string;

  @IntegerField(0, undefined, { optional: true, fromDigits: true })
  afterVersion?: number;
}
