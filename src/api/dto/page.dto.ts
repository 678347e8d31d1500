import { IntegerField, PatternField } from './field-decorators';
import { MAX_LIST_PAGE_SIZE, MAX_PAGE_TOKEN_LENGTH } from './formats';

/** `pageSize` and the opaque `pageToken` of the previous page: every paged list takes them. */
export class PageQueryDto {
  @IntegerField(1, MAX_LIST_PAGE_SIZE, { optional: true, fromDigits: true })
  pageSize?: number;

  @PatternField(/^[A-Za-z0-9._~+/=-]+$/, MAX_PAGE_TOKEN_LENGTH, { optional: true })
  pageToken?: string;
}

export class ListHostsQueryDto extends PageQueryDto {}
