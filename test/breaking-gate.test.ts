// CI's breaking-change gate, run as CI runs it: the body of .ci/run's buf breaking section, in a temporary
// clone where the test writes the commits. The case it exists for is the break spread over two commits (a
// field deleted, then its number given to another field): each commit is harmless next to its parent, so
// `buf breaking --against '.git#ref=HEAD~1'` passes both, and only the comparison with the released
// contract (proto/releases/) sees what an old client would see.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { formatVersion, latestRelease } from "../scripts/lib/releases.js";
import { commandsOf, readPage, shBlock } from "./doc-blocks.js";
import { cloneWorkingTree, ROOT, type TempClone } from "./temp-clone.js";

const PAGE = "docs/contracts.md";
const CONSUMER_PROTO = "proto/ftgo/consumer/v1/consumer.proto";
const NAME_FIELD = "  // Display name.\n  string name = 2 [(buf.validate.field).string.max_len = 200];\n";
const STATE_FIELD = "  // Whether the consumer may order.\n  ConsumerState state = 3;\n";

/** The commands of .ci/run's buf breaking section: what CI runs between its header and the next one. */
function ciBreakingSection(): string {
  const ci = readFileSync(join(ROOT, ".ci/run"), "utf8");
  const section = /^section "[^"\n]*buf breaking[^"\n]*"\n([\s\S]*?)^section /m.exec(ci)?.[1];
  if (!section?.trim()) throw new Error(".ci/run has no buf breaking section");
  return section;
}

const RELEASE = latestRelease(ROOT);
if (!RELEASE) throw new Error("proto/releases/ holds no release image");
/** The release comparison of the gate, as it names it: the repository's latest (v1.0.0 until another is cut). */
const LATEST = `buf breaking --against ${RELEASE.file} (release ${formatVersion(RELEASE.version)}, the latest)`;
/** The next MAJOR release: the one a commit may cut to break its parent. */
const NEXT_MAJOR = `${RELEASE.version.major + 1}.0.0`;

/** The page's output of the two-commit break (its ```text block), one line per entry. */
function documentedWalkAround(): string[] {
  const block = /The two-commit break, as the gate prints it:\n\n```text\n([\s\S]*?)```/.exec(readPage(PAGE))?.[1];
  if (!block) throw new Error(`${PAGE} shows no output of the two-commit break`);
  return block.split("\n").filter((line) => line.trim() !== "");
}

let clone: TempClone;
let base: string;

async function runGate() {
  return clone.run("bash", ["-euo", "pipefail", "-c", ciBreakingSection()]);
}

/** Commit 1 of the walk-around: Consumer's field 2 (`name`) deleted, without reserving it. */
async function deleteNameField(): Promise<void> {
  clone.edit(CONSUMER_PROTO, (text) => text.replace(NAME_FIELD, ""));
  await clone.commit("Consumer: drop the display name");
}

/** A field added after `state`, as number `number`. */
async function addLoyaltyPoints(number: number): Promise<void> {
  const field = `  // Points earned on past orders.\n  int64 loyalty_points = ${number};\n`;
  clone.edit(CONSUMER_PROTO, (text) => text.replace(STATE_FIELD, `${STATE_FIELD}${field}`));
  await clone.commit(`Consumer: loyalty points as field ${number}`);
}

beforeAll(async () => {
  clone = await cloneWorkingTree();
  base = await clone.git("rev-parse", "HEAD");
}, 60_000);
afterAll(() => clone?.remove());
beforeEach(() => clone.resetTo(base));

describe("CI's breaking-change gate (.ci/run)", () => {
  it("runs the gate script, which compares with the previous commit and with the latest release", () => {
    expect(ciBreakingSection()).toContain("npm run contracts:breaking");
  });

  it("passes the tree as it is: nothing broken since the previous commit or since the latest release", async () => {
    const gate = await runGate();
    expect(gate.output).toContain("buf breaking --against '.git#ref=HEAD~1' (the previous commit): passed");
    expect(gate.output).toContain(`${LATEST}: passed`);
    expect(gate.code).toBe(0);
  });

  it("fails a field's number reused one commit after the field was deleted, though HEAD~1 alone passes it", async () => {
    await deleteNameField();
    await addLoyaltyPoints(2);

    const previousOnly = await clone.run("npx", ["buf", "breaking", "--against", ".git#ref=HEAD~1"]);
    expect(previousOnly).toEqual({ code: 0, output: "" });

    const gate = await runGate();
    expect(gate.code).toBe(1);
    expect(gate.output).toContain("buf breaking --against '.git#ref=HEAD~1' (the previous commit): passed");
    expect(gate.output).toContain(`${LATEST}: FAILED`);
    expect(gate.output).toContain('on message "Consumer" changed name from "name" to "loyalty_points".');
    expect(gate.output).toContain('on message "Consumer" changed type from "string" to "int64".');
    expect(gate.output).toContain("breaking-change gate: 1 of 3 comparisons failed");
    for (const line of documentedWalkAround()) expect(gate.output, `${PAGE} shows it`).toContain(line);
  });

  it("fails the deletion itself, in both comparisons", async () => {
    await deleteNameField();

    const gate = await runGate();
    expect(gate.code).toBe(1);
    expect(gate.output).toContain("(the previous commit): FAILED");
    expect(gate.output).toContain(`${LATEST}: FAILED`);
    expect(gate.output).toContain('Previously present field "2" with name "name" on message "Consumer" was deleted.');
  });

  it("passes an additive change: a new field under a new number", async () => {
    await addLoyaltyPoints(4);

    const gate = await runGate();
    expect(gate.output).toContain("breaking-change gate: passed");
    expect(gate.code).toBe(0);
  });

  it("fails a commit that deletes the release image, the walk-around around the release comparison", async () => {
    await clone.git("rm", "--quiet", "proto/releases/v1.0.0.binpb");
    await clone.commit("Releases: forget 1.0.0");

    const gate = await runGate();
    expect(gate.code).toBe(1);
    expect(gate.output).toContain("proto/releases/ (every release of the previous commit, unchanged): FAILED");
    expect(gate.output).toContain("D\tproto/releases/v1.0.0.binpb");
  });

  it("lets a commit that cuts a new MAJOR release break its parent, and holds it to that release", async () => {
    clone.edit(CONSUMER_PROTO, (text) => text.replace(NAME_FIELD, ""));
    const release = await clone.run("npm", ["run", "-s", "contracts:release", "--", NEXT_MAJOR]);
    expect(release.code, release.output).toBe(0);
    await clone.commit(`Consumer: drop the display name, release ${NEXT_MAJOR}`);

    const gate = await runGate();
    expect(gate.output).toContain("(the previous commit): excused");
    expect(gate.output).toContain(`This commit cuts release ${NEXT_MAJOR}, a new MAJOR`);
    expect(gate.output).toContain(
      `buf breaking --against proto/releases/v${NEXT_MAJOR}.binpb (release ${NEXT_MAJOR}, the latest): passed`,
    );
    expect(gate.code).toBe(0);

    clone.edit(CONSUMER_PROTO, (text) => text.replace(STATE_FIELD, ""));
    await clone.commit("Consumer: drop the state too");
    const after = await runGate();
    expect(after.output).toContain(`(release ${NEXT_MAJOR}, the latest): FAILED`);
    expect(after.output).toContain('Previously present field "3" with name "state" on message "Consumer" was deleted.');
    expect(after.code).toBe(1);
  });
});

describe(`${PAGE} › Releases and the breaking-change gate`, () => {
  it("runs the gate as CI does, and it prints what the page says", async () => {
    const block = shBlock(PAGE, "contracts:breaking");
    const run = await clone.run("bash", ["-euo", "pipefail", "-c", block.text]);
    const documented = commandsOf(block).flatMap((command) => command.expectedError);
    expect(documented.length).toBeGreaterThan(0);
    for (const line of documented) expect(run.output).toContain(line);
    expect(run.code).toBe(0);
  });
});
