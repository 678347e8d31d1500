import { IntegerField } from '../dto/field-decorators';

/** gRPC's If-Match: an fd write runs only if the fd is still at this version (API.md "Conditional writes"). */
export class ExpectedVersionDto {
  @IntegerField(0, undefined, { optional: true, description: 'the fd version the write is conditional on (REST: If-Match)' })
  expectedVersion?: number;
}
