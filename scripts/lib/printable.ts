// What an operator tool may print of a field it did not write itself. A correlation id, a courier id, a
// dead letter's reason or a service's log message can hold any bytes a client or a courier sent, and a
// terminal obeys some of them: ESC and CSI start sequences that clear the screen, move the cursor or paint
// a forged red ERROR line; the bidi overrides reorder what follows so that `ok` reads as something else.
// Those code points come out as visible escapes (`\x1b`, `\u202e`); every other character, "Phở bò" and
// "€" included, prints as it is.

/**
 * C0 controls (tab and newline too: a cell or a log line is one line), DEL, the C1 controls (U+009B is a
 * CSI on its own), the bidi marks, embeddings, overrides and isolates, and the line and paragraph
 * separators some terminals break lines on.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's job
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `text` with every terminal-dangerous code point replaced by its escape: `\x1b`, `\x7f`, `\u202e`. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeOf);
}

function escapeOf(char: string): string {
  const code = char.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}
