import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { OPERATION_TAGS } from '../operations/operation-table';

/** The bearer scheme of every /v1 operation (the operation routes declare it). */
const BEARER = 'bearer';

/** OpenAPI of the REST face, built from the routes (the operation table's rows and the probes). */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('IOASID Manager')
    .setDescription(
      'Multi-tenant control plane for PASIDs of devices assigned to VMs. Every error answers `{"error": {code, message, details}}` ' +
        'with a stable code; each operation lists the codes it can answer (`x-error-codes`). The whole contract: docs/API.md.',
    )
    .setVersion('1')
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addServer('/', 'this server')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'the operator token or a tenant token' }, BEARER)
    .addSecurityRequirements(BEARER);
  for (const [name, description] of Object.entries(OPERATION_TAGS)) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build(), { autoTagControllers: false });
  // The probes declare no security of their own: they are public, unlike the document's default.
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path)) {
      if (typeof operation === 'object' && operation !== null && 'responses' in operation && operation.security === undefined) operation.security = [];
    }
  }
  return document;
}

/** Serves the document at /docs (JSON at /docs-json). */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, openApiDocument(app));
}
