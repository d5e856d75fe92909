// mailparser renders every address header it parses twice more, as HTML (each part escaped with `he`) and
// as display text, and keeps both on the header's object. It uses them for one thing: the header block it
// writes into `text` and `html` above the body of a forwarded message shown inline (message/rfc822, inline),
// by string concatenation. The payload reads only the parsed list. So the renderings are deferred: each is
// an object that renders when turned into a string, and only such a header block ever does that. About 3%
// of a small message's parse, in CPU and in bytes allocated (docs/performance.md).

type Render = (this: unknown, value: unknown) => unknown;
type Renderers = Record<(typeof ADDRESS_RENDERERS)[number], Render>;

/** MailParser's methods that render an address list (mailparser 3.x: `value: { value, html, text }`). */
export const ADDRESS_RENDERERS = ['getAddressesHTML', 'getAddressesText'] as const;

/** A rendering made on first use as a string, then kept. */
export class DeferredRendering {
  #render: (() => string) | undefined;
  #text = '';

  constructor(render: () => string) {
    this.#render = render;
  }

  toString(): string {
    if (this.#render !== undefined) {
      this.#text = this.#render();
      this.#render = undefined;
    }
    return this.#text;
  }
}

/** Makes `parser`'s address renderings deferred; a method it no longer has is left alone. */
export function deferAddressRenderings(parser: { prototype: object }): void {
  const proto = parser.prototype as Partial<Renderers>;
  for (const name of ADDRESS_RENDERERS) {
    const render = proto[name];
    if (typeof render !== 'function') continue;
    proto[name] = function (this: unknown, value: unknown) {
      return new DeferredRendering(() => String(render.call(this, value)));
    };
  }
}
