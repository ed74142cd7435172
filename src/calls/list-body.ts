/**
 * A list response's bytes from its items' serialised pieces (`ListView`).
 *
 * Why a template: a body is mostly the same bytes request after request; only the durations (each once a
 * second) and the closing part (`timestamp`, every request) move. So a page's items are kept as one
 * buffer, made with the durations of the moment, plus where each duration's digits sit; a request copies
 * the buffer once and writes the current durations over the old ones. A duration keeps its number of
 * digits nearly all its life (it gains one at 10 s, 100 s, 1,000 s, 10,000 s); when one does not fit, the
 * template is made again. Everything is written as bytes: a string this size would be flattened and
 * encoded once more on the way out.
 */
import type { ListView } from '../domain/view.ts';

export interface Template {
  /** `{"data":[` and every item, with its duration as the template was made. */
  bytes: Buffer;
  /** Per item: offset of the duration's digits, how many, and the start time it counts from. */
  at: Int32Array;
  width: Uint8Array;
  startedAt: Float64Array;
}

/** A view's JSON as bytes, made once per view: before the duration, and after it with the separating comma. */
interface Encoded {
  head: Buffer;
  tail: Buffer;
}

const encoded = new WeakMap<ListView, Encoded>();

function encodedOf(v: ListView): Encoded {
  let e = encoded.get(v);
  if (!e) encoded.set(v, (e = { head: Buffer.from(v.head), tail: Buffer.from(`${v.tail},`) }));
  return e;
}

const OPEN = Buffer.from('{"data":[');

function durationAt(startedAt: number, now: number): number {
  return now > startedAt ? Math.floor((now - startedAt) / 1000) : 0;
}

function digitsOf(n: number): number {
  let width = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) width++;
  return width;
}

/** Writes `n` as exactly `width` decimal digits ending before `end`. */
function writeDigits(out: Buffer, end: number, n: number, width: number): void {
  for (let p = end - 1; p >= end - width; p--) {
    out[p] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
}

function makeTemplate(views: readonly ListView[], now: number): Template {
  const n = views.length;
  const items = views.map(encodedOf);
  const durations = views.map((v) => durationAt(v.startedAt, now));
  let size = OPEN.length;
  for (let i = 0; i < n; i++) {
    const e = items[i] as Encoded;
    size += e.head.length + digitsOf(durations[i] as number) + e.tail.length;
  }
  // Without the last item's separating comma.
  if (n > 0) size--;
  const t: Template = {
    bytes: Buffer.allocUnsafe(size),
    at: new Int32Array(n),
    width: new Uint8Array(n),
    startedAt: Float64Array.from(views, (v) => v.startedAt),
  };
  t.bytes.set(OPEN, 0);
  let o = OPEN.length;
  for (let i = 0; i < n; i++) {
    const e = items[i] as Encoded;
    const d = durations[i] as number;
    const width = digitsOf(d);
    t.bytes.set(e.head, o);
    o += e.head.length;
    t.at[i] = o;
    t.width[i] = width;
    writeDigits(t.bytes, o + width, d, width);
    o += width;
    if (i < n - 1) t.bytes.set(e.tail, o);
    else t.bytes.set(e.tail.subarray(0, e.tail.length - 1), o);
    o += e.tail.length;
  }
  return t;
}

/** The body from `t` as of `now`; undefined when a duration no longer has the template's number of digits. */
function fill(t: Template, now: number, close: string): Buffer | undefined {
  const out = Buffer.allocUnsafe(t.bytes.length + close.length);
  out.set(t.bytes, 0);
  for (let i = 0; i < t.at.length; i++) {
    const d = durationAt(t.startedAt[i] as number, now);
    const width = t.width[i] as number;
    if (digitsOf(d) !== width) return undefined;
    writeDigits(out, (t.at[i] as number) + width, d, width);
  }
  out.write(close, t.bytes.length, 'latin1');
  return out;
}

/**
 * `{"data":[…` with `views` as of `now`, followed by `close` (ASCII: the rest of the body). `template` is
 * the one this returned before for the same views, if any; the template to keep comes back with the body.
 */
export function renderBody(
  views: readonly ListView[],
  template: Template | undefined,
  now: number,
  close: string,
): { body: Buffer; template: Template } {
  const body = template && fill(template, now, close);
  if (template && body) return { body, template };
  const made = makeTemplate(views, now);
  // Made as of `now`, so every duration fits.
  return { body: fill(made, now, close) as Buffer, template: made };
}
