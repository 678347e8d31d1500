import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class LivenessDto {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';
}

export class ReadinessDto {
  @ApiProperty({ enum: ['ready', 'not ready'] })
  status: 'ready' | 'not ready';
  @ApiProperty()
  ready: boolean;
  @ApiProperty({ description: 'the database answered' })
  database: boolean;
  @ApiProperty({ type: 'integer', description: 'committed events not yet in the hardware projection; -1 when the database did not answer' })
  projectionLag: number;
  @ApiProperty({ type: 'integer', description: 'committed events not yet published; -1 when the database did not answer' })
  outboxPending: number;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: "the transport's (Kafka) health, when it reports one: {ok, ...}" })
  transport?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'present (true) while the process shuts down' })
  shuttingDown?: boolean;
}
