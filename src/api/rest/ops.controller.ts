import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../../auth/access.decorators';
import { registry } from '../../observability/metrics';
import { ReadinessService } from '../../projections/readiness.service';
import { LivenessDto, ReadinessDto } from '../dto/responses/probe.responses';

/** Probes and metrics: public, and served in every role. */
@ApiTags('operations')
@Public()
@Controller()
export class OpsController {
  constructor(private readonly readiness: ReadinessService) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  @ApiOperation({ operationId: 'healthz', summary: 'Liveness probe', description: 'The process answers.' })
  @ApiResponse({ status: 200, description: 'alive', type: LivenessDto })
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness as ReadinessService decides it for this process's role: 200, or 503 with the same details. */
  @Get('readyz')
  @ApiOperation({ operationId: 'readyz', summary: 'Readiness probe', description: 'The database answers, Kafka (when configured) is reachable and the projection has caught up.' })
  @ApiResponse({ status: 200, description: 'ready', type: ReadinessDto })
  @ApiResponse({ status: 503, description: 'not ready (or shutting down), with the details', type: ReadinessDto })
  async readyz(@Res() res: FastifyReply): Promise<void> {
    const report = await this.readiness.check();
    void res.status(report.ready ? 200 : 503).send({ status: report.ready ? 'ready' : 'not ready', ...report });
  }

  /** Prometheus' text format, with its own content type. */
  @Get('metrics')
  @ApiOperation({ operationId: 'metrics', summary: 'Prometheus metrics', description: 'Commands, conflicts, outbox and projection lag, PASIDs in use (deploy/README.md).' })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: "Prometheus' text exposition format", content: { 'text/plain': { schema: { type: 'string' } } } })
  async metrics(@Res() res: FastifyReply): Promise<void> {
    const text = await registry.metrics();
    void res.status(200).header('Content-Type', registry.contentType).send(text);
  }
}
