import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** The OpenAPI document's shape, as far as the tests read it. */
export interface ApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
}
export interface Operation {
  operationId?: string;
  security?: unknown[];
  'x-tosia-role'?: 'read' | 'write' | 'admin';
  parameters?: { name: string; in: string; required?: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: object }>; headers?: Record<string, unknown> }>;
}

/**
 * Checks an answer against the document: its status is listed for the operation, its content
 * type is one the entry names, and a JSON body matches the entry's schema (components resolved).
 * Returns what disagrees, or null.
 */
export function answerChecker(doc: ApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'tosia-openapi', components: doc.components });
  const rebase = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"tosia-openapi#/components/'));
  const compiled = new Map<object, ReturnType<typeof ajv.compile>>();
  const routes = Object.keys(doc.paths).map((p) => ({ path: p, re: new RegExp(`^${p.replace(/\./g, '\\.').replace(/\{[a-z]+\}/g, '[^/]+')}$`) }));
  return {
    /** The document path a request path falls under. */
    pathOf: (url: string) => routes.find((r) => r.re.test(url.split('?')[0]!))?.path,
    check(method: string, path: string, status: number, contentType: string, body: Buffer): string | null {
      const op = doc.paths[path]?.[method.toLowerCase()];
      if (!op) return `${method} ${path} is not in the document`;
      const entry = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
      if (!entry) return `${method} ${path} answered ${status}, which its entry does not list (${Object.keys(op.responses).join(', ')})`;
      const media = Object.keys(entry.content ?? {});
      if (media.length === 0) return body.length === 0 ? null : `${method} ${path} ${status} has no body in the document but sent ${body.length} bytes`;
      const type = contentType.split(';')[0]!.trim().toLowerCase();
      const match = media.find((m) => m === type || (m.endsWith('/*') && type.startsWith(m.slice(0, -1))));
      if (!match) return `${method} ${path} ${status} answered ${type || '(no content type)'}; the document says ${media.join(' or ')}`;
      if (!/^application\/([a-z.-]+\+)?json$/.test(match)) return null;
      const schema = entry.content![match]!.schema;
      if (!schema) return null;
      let v = compiled.get(schema);
      if (!v) compiled.set(schema, (v = ajv.compile(rebase(schema) as object)));
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return `${method} ${path} ${status} is not JSON`;
      }
      return v(parsed) ? null : `${method} ${path} ${status}: ${ajv.errorsText(v.errors)}`;
    },
  };
}
