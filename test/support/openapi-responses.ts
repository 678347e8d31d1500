import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** An answer as a REST client saw it, checked against the OpenAPI document. */
export interface SeenResponse {
  method: string;
  /** The request path, query string included. */
  path: string;
  status: number;
  contentType: string;
  body: unknown;
}

const DOCUMENT_ID = 'openapi.json';

/**
 * Checks answers against the document /docs-json serves: the operation the method and path
 * name, a response documented for the status, and the body against its schema (ajv). A path
 * no operation serves must answer the error envelope (404 of an unknown route); the document's
 * own routes (/docs, /docs-json) are not checked.
 */
export class ResponseValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly routes: Array<{ method: string; pattern: RegExp; responses: Record<string, any> }> = [];
  private readonly compiled = new Map<object, ValidateFunction>();
  private readonly errorBody: ValidateFunction;

  constructor(document: any) {
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: DOCUMENT_ID, components: fromOpenApi(document.components) });
    for (const [path, operations] of Object.entries<any>(document.paths)) {
      const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}/?$`);
      for (const [method, operation] of Object.entries<any>(operations)) this.routes.push({ method: method.toUpperCase(), pattern, responses: operation.responses });
    }
    this.errorBody = this.ajv.compile({ $ref: `${DOCUMENT_ID}#/components/schemas/ErrorBodyDto` });
  }

  /** Why `seen` does not match the document, or undefined when it does. */
  problem(seen: SeenResponse): string | undefined {
    const at = `${seen.method} ${seen.path} -> ${seen.status}`;
    const path = seen.path.split('?')[0];
    // The document and its viewer describe the API; they are not operations of it.
    if (path === '/docs' || path.startsWith('/docs-') || path.startsWith('/docs/')) return undefined;
    const route = this.routes.find((r) => r.method === seen.method && r.pattern.test(path));
    if (!route) return seen.status >= 400 ? this.check(this.errorBody, seen.body, at) : `${at}: no operation of the document serves it`;
    const response = route.responses[String(seen.status)];
    if (!response) return `${at}: the operation documents no ${seen.status} answer`;
    const media = response.content?.[seen.contentType.split(';')[0].trim()];
    if (!response.content) return seen.body === undefined ? undefined : `${at}: a body where the document has none`;
    if (!media) return `${at}: content type ${seen.contentType} is not documented`;
    return this.check(this.validatorOf(media.schema), seen.body, at);
  }

  private check(validate: ValidateFunction, body: unknown, at: string): string | undefined {
    return validate(body) ? undefined : `${at}: ${this.ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 500)}`;
  }

  private validatorOf(schema: object): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (!validate) this.compiled.set(schema, (validate = this.ajv.compile(fromOpenApi(schema))));
    return validate;
  }
}

/**
 * An OpenAPI 3.0 schema as JSON Schema for ajv: `nullable: true` becomes a `null` type (and a
 * null enum member), and `#/components/...` references point into the document added to ajv.
 */
function fromOpenApi(node: any): any {
  if (Array.isArray(node)) return node.map(fromOpenApi);
  if (typeof node !== 'object' || node === null) return node;
  const out: any = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string') out.$ref = value.startsWith('#/') ? `${DOCUMENT_ID}${value}` : value;
    else if (key !== 'nullable' && key !== 'example') out[key] = fromOpenApi(value);
  }
  if (node.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  return out;
}
