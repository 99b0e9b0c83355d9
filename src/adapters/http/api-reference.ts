/**
 * `/docs`: the OpenAPI document rendered as one HTML page on the server, from the document
 * itself, so the page and `/openapi.json` cannot disagree. No script and no inline style: it
 * needs nothing but its own stylesheet, so it works under a strict Content-Security-Policy and
 * without a network. `<details>` folds the schemas open and shut without JavaScript.
 */

type Json = Record<string, unknown>;

export const apiReferencePolicy = [
  "default-src 'none'",
  "style-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const methods = ['get', 'put', 'post', 'patch', 'delete'] as const;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const objectAt = (value: Json, key: string): Json => {
  const found = value[key];
  return isObject(found) ? found : {};
};
const arrayAt = (value: Json, key: string): unknown[] => {
  const found = value[key];
  return Array.isArray(found) ? (found as unknown[]) : [];
};
const stringAt = (value: Json, key: string): string | undefined => {
  const found = value[key];
  return typeof found === 'string' ? found : undefined;
};

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The little Markdown the document's prose uses, within a line: `code` and **bold**. */
const inline = (line: string) =>
  escapeHtml(line)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');

/** …and across lines: paragraphs and `- ` lists. */
function prose(text: string | undefined): string {
  if (text === undefined || text.trim() === '') return '';
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const lines = block.split('\n').filter((line) => line.trim() !== '');
      const items = lines.filter((line) => line.startsWith('- '));
      const intro = lines.filter((line) => !line.startsWith('- '));
      const paragraph = intro.length > 0 ? `<p>${intro.map(inline).join(' ')}</p>` : '';
      const list =
        items.length > 0
          ? `<ul>${items.map((item) => `<li>${inline(item.slice(2))}</li>`).join('')}</ul>`
          : '';
      return paragraph + list;
    })
    .join('\n');
}

const schemaAnchor = (name: string) => `schema-${name}`;
const refName = (ref: string) => ref.replace('#/components/schemas/', '');

/**
 * Whether a schema says what a value is, rather than only narrowing a sibling in an `allOf`
 * (as the error responses narrow ErrorBody's `code` to their own codes, named in prose).
 */
const isShape = (schema: Json): boolean =>
  ['$ref', 'type', 'enum', 'const', 'oneOf', 'anyOf', 'allOf'].some((key) => key in schema);

/** A one-line type: `string | null`, `array of TimelineEntry`, a link for a $ref. */
function typeLabel(schema: Json): string {
  const ref = stringAt(schema, '$ref');
  if (ref !== undefined) {
    const name = refName(ref);
    return `<a href="#${escapeHtml(schemaAnchor(name))}">${escapeHtml(name)}</a>`;
  }
  if ('const' in schema) return `<code>${escapeHtml(JSON.stringify(schema['const']))}</code>`;
  const enumValues = arrayAt(schema, 'enum');
  if (enumValues.length > 0) {
    return `one of ${enumValues.map((value) => `<code>${escapeHtml(JSON.stringify(value))}</code>`).join(', ')}`;
  }
  for (const key of ['oneOf', 'anyOf'] as const) {
    const options = arrayAt(schema, key).filter(isObject);
    if (options.length > 0) return options.map(optionLabel).join(' | ');
  }
  const allOf = arrayAt(schema, 'allOf').filter(isObject).filter(isShape);
  if (allOf.length > 0) return allOf.map(typeLabel).join(' &amp; ');
  const type = schema['type'];
  const types = Array.isArray(type) ? type.map(String) : typeof type === 'string' ? [type] : [];
  if (types.includes('array')) {
    const items = objectAt(schema, 'items');
    const rest = types.filter((name) => name !== 'array').map(escapeHtml);
    return [`array of ${typeLabel(items)}`, ...rest].join(' | ');
  }
  if (types.includes('object') && isObject(schema['additionalProperties'])) {
    const values = objectAt(schema, 'additionalProperties');
    return `map of string to ${Object.keys(values).length === 0 ? 'any' : typeLabel(values)}`;
  }
  if (types.length === 0) return 'any';
  const format = stringAt(schema, 'format');
  return (
    types.map((name) => escapeHtml(name)).join(' | ') +
    (format === undefined ? '' : ` (${escapeHtml(format)})`)
  );
}

/** A union member: an object tagged by a constant field is named by it (`type: "ping"`). */
function optionLabel(option: Json): string {
  const tagged = Object.entries(objectAt(option, 'properties')).find(
    ([, field]) => isObject(field) && 'const' in field,
  );
  if (tagged === undefined) return typeLabel(option);
  const [name, field] = tagged as [string, Json];
  return `<code>${escapeHtml(name)}: ${escapeHtml(JSON.stringify(field['const']))}</code>`;
}

/** min/max, length, pattern, default: what a field accepts beyond its type. */
function constraints(schema: Json): string {
  const facts: string[] = [];
  const add = (key: string, label: string) => {
    if (key in schema) facts.push(`${label} ${escapeHtml(JSON.stringify(schema[key]))}`);
  };
  add('minimum', 'min');
  if (schema['maximum'] !== Number.MAX_SAFE_INTEGER) add('maximum', 'max');
  add('minLength', 'min length');
  add('maxLength', 'max length');
  add('minItems', 'min items');
  add('maxItems', 'max items');
  add('default', 'default');
  // A format already says what a long pattern would (dates, UUIDs).
  if (!('format' in schema)) add('pattern', 'pattern');
  return facts.length === 0 ? '' : ` <span class="constraints">${facts.join(', ')}</span>`;
}

/** A schema's fields, nested where a field is an object or a union of objects. */
function schemaTree(schema: Json, depth = 0): string {
  if (depth > 6) return '';
  const parts: string[] = [];
  const properties = objectAt(schema, 'properties');
  const required = new Set(arrayAt(schema, 'required').map(String));
  if (Object.keys(properties).length > 0) {
    const rows = Object.entries(properties).map(([name, value]) => {
      const field = isObject(value) ? value : {};
      const flag = required.has(name) ? '<span class="required">required</span>' : '';
      const about = stringAt(field, 'description');
      return `<li><code class="field">${escapeHtml(name)}</code> ${typeLabel(field)}${constraints(field)} ${flag}${about === undefined ? '' : `<div class="about">${prose(about)}</div>`}${schemaTree(field, depth + 1)}</li>`;
    });
    parts.push(`<ul class="fields">${rows.join('')}</ul>`);
  }
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
    const options = arrayAt(schema, key).filter(isObject).filter(isShape);
    const nested = options.filter(
      (option) => Object.keys(objectAt(option, 'properties')).length > 0,
    );
    if (nested.length === 0) continue;
    const label = key === 'allOf' ? 'all of' : 'one of';
    parts.push(
      `<p class="constraints">${label}:</p><ol class="options" aria-label="${label}">${nested.map((option) => `<li>${schemaTree(option, depth + 1)}</li>`).join('')}</ol>`,
    );
  }
  const items = objectAt(schema, 'items');
  if (Object.keys(objectAt(items, 'properties')).length > 0)
    parts.push(schemaTree(items, depth + 1));
  return parts.join('');
}

/**
 * A body's type, and its fields folded away: a named schema's are shown where it is used too
 * (open for request bodies), so a reader need not jump down to the schemas.
 */
function renderSchemaBlock(title: string, schema: Json, schemas: Json, open = false): string {
  const ref = stringAt(schema, '$ref');
  const tree = schemaTree(ref === undefined ? schema : objectAt(schemas, refName(ref)));
  const fields =
    tree === '' ? '' : `<details${open ? ' open' : ''}><summary>fields</summary>${tree}</details>`;
  return `<div class="schema"><span class="media">${escapeHtml(title)}</span> ${typeLabel(schema)}${constraints(schema)}${fields}</div>`;
}

function renderContent(content: Json, schemas: Json, open = false): string {
  return Object.entries(content)
    .map(([mediaType, media]) =>
      renderSchemaBlock(mediaType, objectAt(isObject(media) ? media : {}, 'schema'), schemas, open),
    )
    .join('');
}

function renderParameters(parameters: Json[]): string {
  if (parameters.length === 0) return '';
  const rows = parameters.map((parameter) => {
    const schema = objectAt(parameter, 'schema');
    return `<tr><td><code>${escapeHtml(stringAt(parameter, 'name') ?? '')}</code></td><td>${escapeHtml(stringAt(parameter, 'in') ?? '')}</td><td>${typeLabel(schema)}${constraints(schema)}</td><td>${parameter['required'] === true ? 'yes' : 'no'}</td><td>${prose(stringAt(parameter, 'description'))}</td></tr>`;
  });
  return `<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th>type</th><th>required</th><th>meaning</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function renderOperation(
  path: string,
  method: string,
  operation: Json,
  schemas: Json,
  sharedResponses: Json,
): string {
  const id = stringAt(operation, 'operationId') ?? `${method}-${path}`;
  const body = objectAt(operation, 'requestBody');
  const responses = Object.entries(objectAt(operation, 'responses')).map(([status, value]) => {
    const given = isObject(value) ? value : {};
    const shared = stringAt(given, '$ref');
    const response =
      shared === undefined
        ? given
        : objectAt(sharedResponses, shared.replace('#/components/responses/', ''));
    return `<li><span class="status status-${escapeHtml(status.slice(0, 1))}xx">${escapeHtml(status)}</span> ${inline(stringAt(response, 'description') ?? '')}${renderContent(objectAt(response, 'content'), schemas)}</li>`;
  });
  // `[]`: public; an empty alternative (`{}`): a token only if the server asks for one.
  const security = arrayAt(operation, 'security').filter(isObject);
  const optional = security.some((requirement) => Object.keys(requirement).length === 0);
  const secured = security.length > 0 && !optional;
  return `<section class="operation" id="${escapeHtml(id)}">
<h3><span class="method method-${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h3>
<p class="summary">${escapeHtml(stringAt(operation, 'summary') ?? '')}</p>
${secured ? '<p class="auth">Needs <code>Authorization: Bearer &lt;token&gt;</code>.</p>' : ''}${optional ? '<p class="auth">Needs <code>Authorization: Bearer &lt;token&gt;</code> if the server is configured to.</p>' : ''}
${prose(stringAt(operation, 'description'))}
${renderParameters(arrayAt(operation, 'parameters').filter(isObject))}
${Object.keys(body).length > 0 ? `<h4>Request body</h4>${renderContent(objectAt(body, 'content'), schemas, true)}` : ''}
<h4>Responses</h4>
<ul class="responses">${responses.join('')}</ul>
</section>`;
}

function renderWebSocket(webSocket: Json, schemas: Json): string {
  if (Object.keys(webSocket).length === 0) return '';
  const list = (value: Json, keyClass: string) =>
    `<dl>${Object.entries(value)
      .map(
        ([key, text]) =>
          `<dt><code class="${keyClass}">${escapeHtml(key)}</code></dt><dd>${prose(String(text))}</dd>`,
      )
      .join('')}</dl>`;
  const commands = objectAt(webSocket, 'commands');
  return `<section class="operation" id="websocket">
<h3><span class="method method-ws">WS</span> <code>${escapeHtml(stringAt(webSocket, 'path') ?? '')}</code></h3>
${prose(stringAt(webSocket, 'description'))}
<h4>Query (subscribe at connect)</h4>${list(objectAt(webSocket, 'query'), 'field')}
<h4>Commands</h4>${renderSchemaBlock(stringAt(commands, 'description') ?? 'commands', objectAt(commands, 'schema'), schemas, true)}
<h4>Frames from the server</h4>${list(objectAt(webSocket, 'frames'), 'field')}
<h4>Close codes</h4>${list(objectAt(webSocket, 'closeCodes'), 'status')}
${prose(stringAt(webSocket, 'refusals'))}
</section>`;
}

export function renderApiReference(document: Readonly<Json>): string {
  const info = objectAt(document, 'info');
  const title = stringAt(info, 'title') ?? 'API';
  const paths = objectAt(document, 'paths');
  const schemas = objectAt(objectAt(document, 'components'), 'schemas');
  const sharedResponses = objectAt(objectAt(document, 'components'), 'responses');
  const tags = arrayAt(document, 'tags').filter(isObject);
  const operations = Object.entries(paths).flatMap(([path, item]) =>
    methods.flatMap((method) => {
      const operation = objectAt(isObject(item) ? item : {}, method);
      return Object.keys(operation).length === 0 ? [] : [{ path, method, operation }];
    }),
  );
  const tagOf = (operation: Json) => {
    const [tag] = arrayAt(operation, 'tags');
    return typeof tag === 'string' ? tag : 'other';
  };
  const sections = tags.map((tag) => {
    const name = stringAt(tag, 'name') ?? '';
    const members = operations.filter(({ operation }) => tagOf(operation) === name);
    const webSocket =
      name === 'live' ? renderWebSocket(objectAt(document, 'x-websocket'), schemas) : '';
    return `<section class="tag" id="tag-${escapeHtml(name)}"><h2>${escapeHtml(name)}</h2>${prose(stringAt(tag, 'description'))}${members.map(({ path, method, operation }) => renderOperation(path, method, operation, schemas, sharedResponses)).join('\n')}${webSocket}</section>`;
  });
  const contents = tags.map((tag) => {
    const name = stringAt(tag, 'name') ?? '';
    const links = operations
      .filter(({ operation }) => tagOf(operation) === name)
      .map(
        ({ path, method, operation }) =>
          `<li><a href="#${escapeHtml(stringAt(operation, 'operationId') ?? '')}"><span class="method method-${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> ${escapeHtml(path)}</a></li>`,
      );
    if (name === 'live' && isObject(document['x-websocket'])) {
      links.push(
        `<li><a href="#websocket"><span class="method method-ws">WS</span> ${escapeHtml(stringAt(objectAt(document, 'x-websocket'), 'path') ?? '')}</a></li>`,
      );
    }
    return `<li>${escapeHtml(name)}<ul>${links.join('')}</ul></li>`;
  });
  const components = Object.entries(schemas).map(([name, value]) => {
    const schema = isObject(value) ? value : {};
    return `<section class="component" id="${escapeHtml(schemaAnchor(name))}"><h3>${escapeHtml(name)}</h3>${prose(stringAt(schema, 'description'))}<p>${typeLabel(schema)}</p>${schemaTree(schema)}</section>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} API reference</title>
<link rel="stylesheet" href="/docs/reference.css">
</head>
<body>
<header><h1>${escapeHtml(title)} API <small>${escapeHtml(stringAt(info, 'version') ?? '')}</small></h1>
<p>OpenAPI ${escapeHtml(stringAt(document, 'openapi') ?? '')}: <a href="/openapi.json">/openapi.json</a></p></header>
<nav aria-label="contents"><ul>${contents.join('')}<li><a href="#schemas">schemas</a></li></ul></nav>
<main>
<section class="intro">${prose(stringAt(info, 'description'))}</section>
${sections.join('\n')}
<section id="schemas"><h2>schemas</h2>${components.join('\n')}</section>
</main>
</body>
</html>
`;
}

export const apiReferenceCss = `:root { color-scheme: light dark; --line: #8884; --muted: #777; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; display: grid; grid-template-columns: minmax(16rem, max-content) 1fr; }
header { grid-column: 1 / -1; padding: 1rem 2rem; border-bottom: 1px solid var(--line); }
header h1 { margin: 0; } header small { font-size: 0.5em; color: var(--muted); }
nav { padding: 1rem; border-right: 1px solid var(--line); position: sticky; top: 0; align-self: start; max-height: 100vh; overflow: auto; font-size: 0.9rem; }
nav ul { list-style: none; padding-left: 0.5rem; margin: 0.25rem 0; }
nav a { white-space: nowrap; }
main { padding: 0 2rem 4rem; min-width: 0; }
code { font-family: ui-monospace, monospace; font-size: 0.9em; }
.operation, .component { border-top: 1px solid var(--line); padding: 1rem 0; }
.method { display: inline-block; min-width: 3.5em; text-align: center; border-radius: 4px; font: bold 0.75rem/1.6 ui-monospace, monospace; color: #fff; background: #555; }
.method-get { background: #2f6f9f; } .method-post { background: #2f8f4f; } .method-delete { background: #9f2f2f; } .method-ws { background: #8f5f2f; }
.summary { font-weight: 600; }
.status { font: bold 0.85rem ui-monospace, monospace; }
.responses li { margin: 0.4rem 0; }
.schema { margin-left: 1rem; font-size: 0.95rem; }
.media { color: var(--muted); font: 0.8rem ui-monospace, monospace; }
dd { margin: 0 0 0.5rem 1.5rem; }
dd p { margin: 0; }
.status-2xx { color: #2f8f4f; } .status-3xx { color: #2f6f9f; } .status-4xx { color: #b06000; } .status-5xx { color: #c03030; }
.required { color: #c03030; font-size: 0.8rem; }
.constraints, .about { color: var(--muted); font-size: 0.85rem; }
.about p { margin: 0; }
.fields { list-style: none; padding-left: 1rem; border-left: 2px solid var(--line); }
.options { padding-left: 1.5rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; border-bottom: 1px solid var(--line); padding: 0.25rem 0.5rem; vertical-align: top; }
td p { margin: 0; }
details summary { cursor: pointer; color: var(--muted); }
@media (max-width: 50rem) { body { display: block; } nav { position: static; max-height: none; border-right: 0; } }
`;
