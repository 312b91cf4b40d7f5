// `npm run contracts:release -- <version>` (scripts/contracts-release.ts), run as a maintainer runs it, in a
// temporary clone (it writes into proto/releases/): it refuses what semantic versioning refuses, with a message
// that says why, and otherwise writes the protos as they are now as the new latest release. The order of the
// releases is semver's, which is not the order of the file names (scripts/lib/releases.ts).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { formatVersion, latestRelease, releasesAmong, type Version } from "../scripts/lib/releases.js";
import { shBlock } from "./doc-blocks.js";
import { cloneWorkingTree, type TempClone } from "./temp-clone.js";

const RELEASES = "proto/releases";

let clone: TempClone;
let base: string;
/** The repository's releases when the test starts (v1.0.0 and whatever was cut since), and the latest of them. */
let released: string[];
let latest: Version;
/** `latest` moved by semver's rules: `bump("minor")` of 1.0.0 is "1.1.0". */
function bump(part: "major" | "minor" | "patch"): string {
  const { major, minor, patch } = latest;
  if (part === "major") return `${major + 1}.0.0`;
  return part === "minor" ? `${major}.${minor + 1}.0` : `${major}.${minor}.${patch + 1}`;
}

function release(version: string) {
  return clone.run("npm", ["run", "-s", "contracts:release", "--", version]);
}

/** The image files in the clone's proto/releases/. */
function images(): string[] {
  return readdirSync(join(clone.dir, RELEASES))
    .filter((name) => name.endsWith(".binpb"))
    .sort();
}

/** The .proto files an image holds. */
function filesOf(image: string): string[] {
  return fromBinary(FileDescriptorSetSchema, readFileSync(join(clone.dir, image))).file.map((file) => file.name);
}

beforeAll(async () => {
  clone = await cloneWorkingTree();
  base = await clone.git("rev-parse", "HEAD");
  released = images();
  latest = latestRelease(clone.dir)?.version ?? { major: 1, minor: 0, patch: 0 };
  expect(released).toContain("v1.0.0.binpb");
}, 60_000);
afterAll(() => clone?.remove());
beforeEach(() => clone.resetTo(base));

describe("npm run contracts:release", () => {
  it.each([
    ["1.1", '"1.1" is not a version: write MAJOR.MINOR.PATCH, three numbers, e.g. 1.1.0'],
    ["1.1.0-rc.1", '"1.1.0-rc.1" is not a version: write MAJOR.MINOR.PATCH'],
    ["01.1.0", '"01.1.0" is not a version'],
    ["latest", '"latest" is not a version'],
    ["v1.1.0", '"v1.1.0": write the version without the v, e.g. 1.1.0'],
  ])("refuses %s, which is not MAJOR.MINOR.PATCH, and writes nothing", async (version, message) => {
    const run = await release(version);
    expect(run.output).toContain(message);
    expect(run.output).toContain("usage:\n  npm run contracts:release -- <MAJOR.MINOR.PATCH>");
    expect(run.code).toBe(2);
    expect(images()).toEqual(released);
  });

  it.each([
    ["the latest itself", () => formatVersion(latest)],
    ["a lower one", () => "0.9.9"],
  ])("refuses %s: a release is never rewritten, nor cut below the latest", async (_, version) => {
    const run = await release(version());
    const latestFile = `proto/releases/v${formatVersion(latest)}.binpb`;
    expect(run.output).toContain(
      `contracts:release: refused: ${version()} is not higher than the latest release, ${formatVersion(latest)} (${latestFile})`,
    );
    expect(run.code).toBe(1);
    expect(images()).toEqual(released);
  });

  it("writes a higher one as the protos are now, and it becomes the latest", async () => {
    const next = bump("minor");
    const run = await release(next);
    expect(run.output).toContain(`wrote proto/releases/v${next}.binpb`);
    expect(run.code).toBe(0);

    // The same bytes as buf's own build of the tree, the way v1.0.0.binpb was made.
    const built = await clone.run("npx", ["buf", "build", "--exclude-source-info", "-o", ".tmp-image.binpb"]);
    expect(built.code, built.output).toBe(0);
    const image = readFileSync(join(clone.dir, RELEASES, `v${next}.binpb`));
    expect(image).toEqual(readFileSync(join(clone.dir, ".tmp-image.binpb")));
    // What 1.0.0 did not have and the tree has: the new release is today's contract, not a copy of the last.
    expect(filesOf(`${RELEASES}/v1.0.0.binpb`)).not.toContain("ftgo/order/v2/order.proto");
    expect(filesOf(`${RELEASES}/v${next}.binpb`)).toContain("ftgo/order/v2/order.proto");
    expect(latestRelease(clone.dir)?.file).toBe(`proto/releases/v${next}.binpb`);

    const below = await release(bump("patch"));
    expect(below.output).toContain(`refused: ${bump("patch")} is not higher than the latest release, ${next}`);
    expect(below.code).toBe(1);
  });

  it("refuses a MINOR or PATCH release that breaks the latest release, and lets a MAJOR one break it", async () => {
    clone.edit("proto/ftgo/consumer/v1/consumer.proto", (text) =>
      text.replace("  // Display name.\n  string name = 2 [(buf.validate.field).string.max_len = 200];\n", ""),
    );

    for (const kind of ["minor", "patch"] as const) {
      const run = await release(bump(kind));
      expect(run.output).toContain(
        `refused: ${bump(kind)} is a ${kind.toUpperCase()} release, but the protos break release ${formatVersion(latest)}`,
      );
      expect(run.output).toContain('Previously present field "2" with name "name" on message "Consumer" was deleted.');
      expect(run.output).toContain(`if it is meant, release it as ${bump("major")}`);
      expect(run.code).toBe(1);
    }
    expect(images()).toEqual(released);

    const major = await release(bump("major"));
    expect(major.code, major.output).toBe(0);
    expect(images()).toEqual([...released, `v${bump("major")}.binpb`].sort());
  });
});

describe("docs/contracts.md › Releases and the breaking-change gate", () => {
  it("cuts the release its command names, writing the file the page says", async () => {
    const block = shBlock("docs/contracts.md", "contracts:release -- 1.1.0");
    const file = /writes (proto\/releases\/\S+\.binpb)/.exec(block.text)?.[1];
    expect(file).toBeDefined();
    const run = await clone.run("bash", ["-euo", "pipefail", "-c", block.text]);
    expect(run.output).toContain(`wrote ${file}`);
    expect(run.code).toBe(0);
    expect(images()).toEqual([...released, file?.slice(RELEASES.length + 1)].sort());
  });
});

describe("the latest release", () => {
  it("is the highest version by semver, not by name", () => {
    const releases = releasesAmong(["v1.10.0.binpb", "README.md", "v1.9.3.binpb", "v2.0.0.binpb", "v1.9.12.binpb"]);
    expect(releases.map((r) => r.file)).toEqual([
      "proto/releases/v1.9.3.binpb",
      "proto/releases/v1.9.12.binpb",
      "proto/releases/v1.10.0.binpb",
      "proto/releases/v2.0.0.binpb",
    ]);
  });

  it("refuses an image whose name is not a version, rather than skip a release", () => {
    expect(() => releasesAmong(["v1.0.0.binpb", "v1.1.binpb"])).toThrow(
      "proto/releases/v1.1.binpb is not named v<MAJOR.MINOR.PATCH>.binpb",
    );
  });
});
