// The readiness wait's budget: a fixed one without a measure of progress; with one, as long as the
// process progresses (up to a cap), and no longer than the stall time once it stops.
import { describe, expect, it } from "vitest";
import { waitUntilReady } from "../src/readiness.js";
import { freePort } from "../src/service-instance.js";

/** An address nothing listens on: never ready. */
const nowhere = async () => `127.0.0.1:${await freePort()}`;

describe("waitUntilReady", () => {
  it("gives up once the process has made no progress for the stall time", async () => {
    const waited = waitUntilReady(await nowhere(), { progress: () => 1, stallMs: 500, timeoutMs: 20_000 });
    await expect(waited).rejects.toThrow(/no progress for 500 ms/);
  });

  it("keeps waiting past the stall time while the process progresses, up to the cap", async () => {
    let work = 0;
    const started = Date.now();
    const waited = waitUntilReady(await nowhere(), { progress: () => ++work, stallMs: 500, timeoutMs: 2_000 });
    await expect(waited).rejects.toThrow(/not within 2000 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  });

  it("keeps its fixed budget when given no measure of progress", async () => {
    await expect(waitUntilReady(await nowhere(), { probe: "tcp", timeoutMs: 600 })).rejects.toThrow(
      /accepting connections: not within 600 ms/,
    );
  });

  it("stops waiting when its signal aborts", async () => {
    const abort = new AbortController();
    const waited = waitUntilReady(await nowhere(), { progress: () => 1, signal: abort.signal });
    abort.abort(new Error("enough"));
    await expect(waited).rejects.toThrow("enough");
  });
});
