import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** OpenAPI of the REST face at /docs (JSON at /docs-json), with the bearer scheme every /v1 route needs. */
export function setupOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('IOASID Manager')
      .setDescription('Multi-tenant control plane for PASIDs of devices assigned to VMs (API.md).')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'the operator token or a tenant token' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
}
