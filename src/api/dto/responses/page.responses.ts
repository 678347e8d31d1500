import { ApiPropertyOptional } from '@nestjs/swagger';

/** A page of a list (hosts, fds, events): `nextPageToken` asks for the next (the list's `pageToken`). */
export class PageDto {
  @ApiPropertyOptional({ description: 'absent on the last page' })
  nextPageToken?: string;
}
