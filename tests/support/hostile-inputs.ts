/**
 * fast-check arbitraries for what a hostile or careless client sends: text PostgreSQL refuses
 * (NUL, lone surrogates), instants it cannot store (year 0000, offsets past ±15:59), links that
 * are not web links, nesting deep enough to overflow a recursive reader, numbers past what a
 * bigint holds, and plain garbage. Bodies are made as JSON text, since a value nested 10,000
 * deep cannot go through JSON.stringify.
 */
import fc from 'fast-check';

/** Any UTF-16 code units, lone surrogates and NUL included. */
const codeUnits = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 })
  .map((codes) => String.fromCharCode(...codes));

export const nastyInstants = [
  '0000-01-01T00:00:00Z',
  '0000-02-29T12:00:00+01:00',
  '2025-12-02T16:30:00+16:00',
  '2025-12-02T16:30:00-23:59',
  '2025-12-02T16:30:00+15:59',
  '9999-12-31T23:59:59-15:59',
  '0001-01-01T00:00:00+15:59',
  '2025-12-02T16:30:00.1234567Z',
  '2025-02-29T00:00:00Z',
  '2025-12-02T24:00:00Z',
] as const;

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfff',
    '\udc00\ud800',
    '\ud83d\ude00',
    '',
    '   ',
    'javascript:alert(1)',
    ' JavaScript:alert(1)',
    'data:text/html;base64,PHNjcmlwdD4=',
    'https://example.com/\u0000',
    'https://example.com/\ud800',
    'http://[::1',
    'Mars/Olympus',
    '__proto__',
    'constructor',
    ...nastyInstants,
  ),
  fc.string({ unit: 'binary', maxLength: 12 }),
  codeUnits,
);

/** A placeholder that `hostileJson` replaces by a value nested `depth` levels deep. */
const deepMarker = (depth: number) => `__deep_${depth}__`;
const deep = fc.constantFrom(20, 100, 10_000, 100_000).map(deepMarker);

const nastyNumber = fc.constantFrom(
  -1,
  1.5,
  1e308,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  2 ** 63,
);

export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  nastyNumber,
  deep,
  fc.constantFrom(null, true, [], {}),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Mostly a good value, often a hostile one. */
const either = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 2, arbitrary: good }, { weight: 3, arbitrary: nastyValue });

const text = either(fc.constantFrom('Fine text', 'Über — «quotes» 😀'));
const instant = either(fc.constantFrom('2025-12-02T16:30:00+03:00', '2025-12-02T13:30:00Z'));
const url = either(fc.constantFrom('https://example.com/a?b=1', 'http://example.org/'));
const sources = either(fc.array(fc.record({ name: text, url }, { requiredKeys: ['name'] })));

const metadata = either(
  fc.dictionary(
    fc.oneof(fc.constantFrom('source', 'ref'), nastyString),
    fc.oneof(fc.constantFrom('wire', 1), nastyValue),
    { maxKeys: 3 },
  ),
);

const envelope = {
  id: either(fc.constant('0b8f6a53-6d6e-4c1e-9b55-0c2a4d1b7e11')),
  occurredAt: instant,
  metadata,
};

const event: fc.Arbitrary<unknown> = fc.oneof(
  fc.record(
    {
      type: fc.constant('story.opened'),
      data: fc.record(
        { title: text, timeZone: either(fc.constant('Europe/Moscow')), summary: text },
        { requiredKeys: ['title', 'timeZone'] },
      ),
      ...envelope,
    },
    { requiredKeys: ['type', 'data'] },
  ),
  fc.record(
    {
      type: fc.constant('development.reported'),
      data: fc.record(
        {
          developmentId: either(fc.constant('d-1')),
          kind: either(fc.constant('statement')),
          headline: text,
          body: text,
          sources,
          actors: either(fc.array(fc.record({ name: text, role: text }))),
          quote: either(fc.record({ text, by: text })),
        },
        { requiredKeys: ['developmentId', 'kind', 'headline'] },
      ),
      ...envelope,
    },
    { requiredKeys: ['type', 'data'] },
  ),
  fc.record(
    {
      type: fc.constant('development.corrected'),
      data: fc.record({
        developmentId: fc.constant('d-1'),
        changes: fc.record({ headline: text, occurredAt: instant, sources }, { requiredKeys: [] }),
        note: text,
        severity: either(fc.constant('typo')),
      }),
      ...envelope,
    },
    { requiredKeys: ['type', 'data'] },
  ),
  fc.record(
    {
      type: fc.constant('claim.disputed'),
      data: fc.record({ developmentId: fc.constant('d-1'), by: text, statement: text, sources }),
      ...envelope,
    },
    { requiredKeys: ['type', 'data'] },
  ),
  fc.record(
    { type: fc.constant('summary.revised'), data: fc.record({ keyPoints: fc.array(text) }) },
    { requiredKeys: ['type', 'data'] },
  ),
  nastyValue,
);

/** An append body as JSON text: mostly well-shaped, with hostile values in its fields. */
export const hostileAppendBody: fc.Arbitrary<string> = fc
  .oneof(
    {
      weight: 5,
      arbitrary: fc.record(
        {
          expectedVersion: either(fc.nat(3)),
          events: fc.array(event, { minLength: 1, maxLength: 3 }),
        },
        { requiredKeys: ['events'] },
      ),
    },
    { weight: 1, arbitrary: nastyValue },
  )
  .map(hostileJson);

/** JSON text with each deep marker replaced by a value nested that deep. */
export function hostileJson(value: unknown): string {
  return JSON.stringify(value).replace(/"__deep_(\d+)__"/g, (_match, depth: string) => {
    const levels = Number(depth);
    return `${'{"a":['.repeat(levels)}1${']}'.repeat(levels)}`;
  });
}

/** A query value as a client might put it in a URL, percent-encoding included or broken. */
export const hostileQueryValue: fc.Arbitrary<string> = fc.oneof(
  fc.nat().map(String),
  fc.constantFrom('-1', '1e3', '0x10', '99999999999999999999', '9007199254740993', 'asc', 'desc'),
  fc.constantFrom('%', '%ZZ', '%00', '%E0%A4%A', '%ED%A0%80', '%C0%80', '%FF'),
  nastyString.map(percentEncoded),
  hostileCursor(),
);

function hostileCursor(): fc.Arbitrary<string> {
  return fc
    .record({
      occurredAt: either(fc.constant('2025-12-02T16:30:00+03:00')),
      reportedPosition: either(fc.nat()),
    })
    .map((cursor) => Buffer.from(hostileJson(cursor)).toString('base64url'));
}

/** encodeURIComponent, except that a lone surrogate (which it refuses) goes as raw UTF-16. */
export function percentEncoded(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    // By code point: a surrogate pair stays whole, a lone surrogate stands alone.
    return Array.from(value)
      .map((char) => {
        try {
          return encodeURIComponent(char);
        } catch {
          return `%u${char.charCodeAt(0).toString(16)}`;
        }
      })
      .join('');
  }
}
