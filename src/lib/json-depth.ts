/**
 * How deep a JSON body may nest: far more than any event or rule needs (rule paths reach at most
 * 32 steps, conditions nest at most 10 deep), and shallow enough that every recursive walk of it
 * stays far from the stack's end: `JSON.stringify`, zod, the matcher's miss traces.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether the text nests more than `max` arrays and objects inside each other, counting `[` and
 * `{` outside strings in one iterative pass, so it is safe to ask before parsing text of any depth.
 * Text that is not JSON gets an answer too; parsing it says what else is wrong.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if ((c === CLOSE_BRACKET || c === CLOSE_BRACE) && depth > 0) {
      depth--;
    }
  }
  return false;
}
