// What operator tools print of other people's text (scripts/lib/printable.ts): terminal controls come out
// as visible escapes, ordinary text as it is, and the tables every tool prints go through it cell by cell.
import { describe, expect, it } from "vitest";
import { formatTable } from "../scripts/lib/cli.js";
import { printable } from "../scripts/lib/printable.js";

const ESC = "\x1b";

describe("printable", () => {
  it("escapes ESC sequences that would clear the screen or paint a forged line", () => {
    expect(printable("o-1\x1b[2J\x1b[31mERROR")).toBe("o-1\\x1b[2J\\x1b[31mERROR");
  });

  it("escapes every C0 control, DEL and the C1 controls, the single-byte CSI included", () => {
    expect(printable("a\x00b\x07c\td\ne\rf\x7fg\x9b31mh\x85")).toBe(
      "a\\x00b\\x07c\\x09d\\x0ae\\x0df\\x7fg\\x9b31mh\\x85",
    );
  });

  it("escapes the bidi overrides and isolates that reorder what a reader sees", () => {
    expect(printable("ok\u202egnp.exe\u2066x\u2069\u202a\u202b\u202c\u202d")).toBe(
      "ok\\u202egnp.exe\\u2066x\\u2069\\u202a\\u202b\\u202c\\u202d",
    );
  });

  it("leaves ordinary Unicode alone", () => {
    const text = "Phở bò 13,00 € — naïve 寿司 🍜 \\x1b as typed";
    expect(printable(text)).toBe(text);
  });
});

describe("formatTable", () => {
  it("prints every cell escaped, so a correlation id cannot clear the operator's screen", () => {
    const table = formatTable(["ORDER", "REASON"], [["o-\x1b[2J\x1b[31m", "bad\u202e\nline"]]);
    expect(table).not.toContain(ESC);
    expect(table).not.toContain("\u202e");
    expect(table.split("\n")).toEqual([
      `${"ORDER".padEnd("o-\\x1b[2J\\x1b[31m".length)}  REASON`,
      "o-\\x1b[2J\\x1b[31m  bad\\u202e\\x0aline",
    ]);
  });
});
