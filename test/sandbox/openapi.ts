import { readFileSync } from 'node:fs';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { applySpecExceptions, type SpecException } from '../../sandbox/spec-exceptions';
import { SEVDESK_SPEC_PATH } from '../fixtures';

// Loads the official sevDesk OpenAPI 3.0 spec and turns its component schemas into JSON Schema for ajv.
// The spec is an unmodified copy in the repository (test/fixtures/sevdesk/README.md says where from).
export const SPEC_PATH = SEVDESK_SPEC_PATH;

type Json = Record<string, unknown>;

interface Spec {
  paths: Record<
    string,
    Record<
      string,
      { operationId?: string; responses?: Record<string, { content?: Record<string, { schema?: Json }> }> }
    >
  >;
  components: { schemas: Record<string, Json> };
}

let cachedSpec: Spec | undefined;

export function loadSpec(): Spec {
  cachedSpec ??= parse(readFileSync(SPEC_PATH, 'utf8')) as Spec;
  return cachedSpec;
}

/** OpenAPI 3.0 → JSON Schema (draft-07): `nullable`, and `$ref`s into `#/definitions/`. */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (typeof node !== 'object' || node === null) return node;
  const source = node as Json;
  const out: Json = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === 'nullable') continue;
    if (key === '$ref' && typeof value === 'string')
      out.$ref = value.replace('#/components/schemas/', '#/definitions/');
    else if (key === 'properties' && typeof value === 'object' && value !== null) {
      // Property names are data, not keywords: convert the values only.
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, schema]) => [name, toJsonSchema(schema)]),
      );
    } else out[key] = toJsonSchema(value);
  }
  if (source.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    if (out.type === undefined) return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

function collectFormats(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => collectFormats(n, into));
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'format' && typeof value === 'string') into.add(value);
      else collectFormats(value, into);
    }
  }
  return into;
}

export interface Validators {
  /** Validates `data` against `#/components/schemas/<name>` (patched, closed). */
  schema(name: string): ValidateFunction;
  /** Validates a whole response body against the spec's declared response of `method path`. */
  response(method: string, specPath: string, status: string): ValidateFunction;
}

/**
 * Builds validators from the spec with the given exceptions applied. The response objects under test are
 * closed (additionalProperties: false), so every undeclared field must be listed as an exception.
 */
export function buildValidators({
  exceptions,
  closed,
}: {
  exceptions?: readonly SpecException[];
  closed: readonly string[];
}): Validators {
  const spec = loadSpec();
  const patched = applySpecExceptions(spec.components.schemas, exceptions);
  for (const name of closed) {
    const schema = patched[name];
    if (schema) schema.additionalProperties = false;
  }
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const format of collectFormats(spec, new Set())) {
    if (format === 'date-time')
      ajv.addFormat(format, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    else if (format === 'date') ajv.addFormat(format, /^\d{4}-\d\d-\d\d$/);
    else ajv.addFormat(format, true);
  }
  ajv.addSchema({ $id: 'sevdesk', definitions: toJsonSchema(patched) as Json });
  return {
    schema(name) {
      const validate = ajv.getSchema(`sevdesk#/definitions/${name}`);
      if (!validate) throw new Error(`no schema ${name}`);
      return validate;
    },
    response(method, specPath, status) {
      const schema =
        spec.paths[specPath]?.[method]?.responses?.[status]?.content?.['application/json']?.schema;
      if (!schema) throw new Error(`no response schema for ${method} ${specPath} ${status}`);
      const converted = JSON.parse(
        JSON.stringify(toJsonSchema(schema)).replaceAll('"#/definitions/', '"sevdesk#/definitions/'),
      ) as Json;
      return ajv.compile(converted);
    },
  };
}

/** ajv errors, readable in an assertion message. */
export function describeErrors(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
  );
}
