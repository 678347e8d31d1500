import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The answer of GET /v1/whoami, described for OpenAPI: `tenantId` and `name` come with the tenant role only. */
export class WhoAmIDto {
  @ApiProperty({ enum: ['operator', 'tenant'], description: 'whose bearer token the call carried' })
  role: 'operator' | 'tenant';
  @ApiPropertyOptional({ format: 'uuid', description: 'the tenant (role `tenant` only)' })
  tenantId?: string;
  @ApiPropertyOptional({ description: "the tenant's name (role `tenant` only)" })
  name?: string;
}
