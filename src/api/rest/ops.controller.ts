import { Controller, Get, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../../auth/access.decorators';
import { registry } from '../../observability/metrics';
import { ReadinessService } from '../../projections/readiness.service';

/** Probes and metrics: public, and served in every role. */
@ApiTags('operations')
@Public()
@Controller()
export class OpsController {
  constructor(private readonly readiness: ReadinessService) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness as ReadinessService decides it for this process's role: 200, or 503 with the same details. */
  @Get('readyz')
  async readyz(@Res() res: FastifyReply): Promise<void> {
    const report = await this.readiness.check();
    void res.status(report.ready ? 200 : 503).send({ status: report.ready ? 'ready' : 'not ready', ...report });
  }

  /** Prometheus' text format, with its own content type. */
  @Get('metrics')
  async metrics(@Res() res: FastifyReply): Promise<void> {
    const text = await registry.metrics();
    void res.status(200).header('Content-Type', registry.contentType).send(text);
  }
}
