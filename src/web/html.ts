/**
 * The one escaping helper. Markup is built with the `html` tag: every interpolated value is
 * escaped unless it is itself `Html` made by the tag (or an array of it), so text from the log
 * can only ever become text. Used unchanged on the server and in the browser.
 */

export class Html {
  readonly #markup: string;

  private constructor(markup: string) {
    this.#markup = markup;
  }

  /** Markup as is, unescaped: for this module's own output only (the tag, JSON for scripts). */
  static trusted(markup: string): Html {
    return new Html(markup);
  }

  toString(): string {
    return this.#markup;
  }
}

/** A value an `html` template may hold: text (escaped), markup, lists of them, or nothing. */
export type HtmlValue = Html | string | number | null | undefined | false | readonly HtmlValue[];

const entities: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (character) => entities[character] ?? character);

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.toString();
  if (Array.isArray(value)) return value.map((item: HtmlValue) => render(item)).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let markup = strings[0] ?? '';
  values.forEach((value, index) => {
    markup += render(value) + (strings[index + 1] ?? '');
  });
  return Html.trusted(markup);
}

/**
 * JSON for a `<script type="application/ld+json">` block: `<`, `>` and `&` become `\u003c`…
 * so no text in it can close the element or open a comment.
 */
export function jsonForScript(value: unknown): Html {
  return Html.trusted(
    JSON.stringify(value)
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e')
      .replace(/&/g, '\\u0026'),
  );
}
