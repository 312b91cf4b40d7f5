import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  latestReleasedVersion,
  loadReleasedContract,
  RELEASES_DIR,
  releasedVersions,
  UnreleasedTypeError,
} from "../src/released-contract.js";

describe("loadReleasedContract", () => {
  it("resolves the release's types by name, with or without the v", () => {
    for (const version of ["1.0.0", "v1.0.0"]) {
      const release = loadReleasedContract(version);
      expect(release.version).toBe("1.0.0");
      expect(release.service("ftgo.order.v1.OrderService").methods.map((m) => m.name)).toContain("CreateOrder");
      expect(release.message("ftgo.order.v1.OrderCreated").fields.map((f) => f.name)).toEqual([
        "order_id",
        "consumer_id",
        "restaurant_id",
        "line_items",
        "total",
      ]);
      expect(release.enumValue("ftgo.order.v1.OrderState", "ORDER_STATE_APPROVED")).toBe(2);
    }
  });

  it("says which type the release did not have", () => {
    const release = loadReleasedContract("1.0.0");
    expect(() => release.service("ftgo.order.v2.OrderService")).toThrow(
      new UnreleasedTypeError("service ftgo.order.v2.OrderService is not in release v1.0.0"),
    );
    expect(() => release.message("ftgo.common.v1.Address")).toThrow(UnreleasedTypeError);
    expect(() => release.enumValue("ftgo.order.v1.OrderState", "ORDER_STATE_LOST")).toThrow(
      "enum value ftgo.order.v1.OrderState.ORDER_STATE_LOST is not in release v1.0.0",
    );
  });
});

describe("releasedVersions", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  function releasesDir(names: string[]) {
    const dir = mkdtempSync(join(tmpdir(), "ftgo-releases-"));
    dirs.push(dir);
    for (const name of names) copyFileSync(join(RELEASES_DIR, "v1.0.0.binpb"), join(dir, name));
    return dir;
  }

  it("orders versions by number, not by text, and ignores other files", () => {
    const dir = releasesDir(["v1.10.0.binpb", "v1.9.2.binpb", "v2.0.0.binpb", "v1.9.10.binpb"]);
    writeFileSync(join(dir, "README.md"), "not an image");
    expect(releasedVersions(dir)).toEqual(["1.9.2", "1.9.10", "1.10.0", "2.0.0"]);
    expect(latestReleasedVersion(dir)).toBe("2.0.0");
  });

  it("has v1.0.0 committed, and refuses to name a latest release where there is none", () => {
    expect(releasedVersions()).toContain("1.0.0");
    const empty = releasesDir([]);
    expect(() => latestReleasedVersion(empty)).toThrow(`no release image (v<major>.<minor>.<patch>.binpb) in ${empty}`);
  });
});
