// The saga bench's pure pieces: reading the previous commit's figure from a saved result, and checking
// issue 14's goals against a run's medians. The bench itself is run with `npm run bench -- saga` (minutes of
// load, and speed is never asserted in a test).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatReport, verdictsOf } from "../bench/lib/report.js";
import type { ContenderResult, Measurement, SuiteResult } from "../bench/lib/suite.js";
import { CONTENDER, previousContender, previousFigureNote, sagaGoals } from "../bench/suites/saga/goals.js";
import { lookUpPreviousFigure, sagaOrdersPerSecondOf } from "../bench/suites/saga/previous.js";
import { ROOT } from "./doc-blocks.js";

const figures = (callsPerSecond: number, p50Ms = 1, p99Ms = 2): Measurement => ({
  calls: 1,
  seconds: 1,
  callsPerSecond,
  p50Ms,
  p99Ms,
});
const contender = (name: string, median: Measurement): ContenderResult => ({
  name,
  label: name,
  rounds: [median],
  median,
});

describe("the previous saga figure", () => {
  it("is the choreography's median orders/s in the committed latest-saga.json", () => {
    const saved = JSON.parse(readFileSync(join(ROOT, "bench/results/latest-saga.json"), "utf8"));
    const saga = saved.contenders.find((c: { name: string }) => c.name === "saga");
    expect(sagaOrdersPerSecondOf(saved)).toBe(saga.median.callsPerSecond);
  });

  it("is missing from any other shape rather than read wrong", () => {
    expect(sagaOrdersPerSecondOf(null)).toBeUndefined();
    expect(sagaOrdersPerSecondOf({ contenders: {} })).toBeUndefined();
    expect(
      sagaOrdersPerSecondOf({ contenders: [{ name: "saga-orchestration", median: { callsPerSecond: 9 } }] }),
    ).toBeUndefined();
    expect(sagaOrdersPerSecondOf({ contenders: [{ name: "saga", median: { callsPerSecond: "9" } }] })).toBeUndefined();
  });

  it("comes from the commit asked for, and says why when there is none", () => {
    const head = execFileSync("git", ["-C", ROOT, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    const lookup = lookUpPreviousFigure("HEAD");
    expect("figure" in lookup && lookup.figure.commit).toBe(head);
    const none = lookUpPreviousFigure("no-such-revision");
    expect(none).toEqual({ missing: "no-such-revision is not a commit here" });
    expect(previousFigureNote(none, 100)).toMatch(/^previous figure: none \(no-such-revision is not a commit here\)/);
  });
});

describe("the saga goals", () => {
  const previous = { commit: "0123456789abcdef", ordersPerSecond: 25, timestamp: undefined };
  const result = (overrides: Partial<Record<string, Measurement>>): SuiteResult => {
    const medians: Record<string, Measurement> = {
      "jetstream-ceiling": figures(5000),
      [CONTENDER.bare]: figures(200),
      [CONTENDER.sagaApproved]: figures(160),
      [CONTENDER.saga]: figures(100),
      [CONTENDER.orchestration]: figures(90),
      [CONTENDER.bareAlone]: figures(50, 10),
      [CONTENDER.sagaAlone]: figures(40, 20),
      [CONTENDER.steadyLag]: figures(50, 3, 20),
      ...overrides,
    };
    return {
      suite: "saga",
      description: "",
      baseline: "jetstream-ceiling",
      contenders: [...Object.entries(medians).map(([n, m]) => contender(n, m)), previousContender(previous)],
      goals: sagaGoals(previous),
    };
  };
  const met = (r: SuiteResult) => Object.fromEntries(verdictsOf(r).map((v) => [v.label, v.met]));

  it("are met exactly at their bounds", () => {
    expect(Object.values(met(result({})))).toEqual([true, true, true, true, true, true]);
  });

  it("each fails just past its bound", () => {
    const failing = met(
      result({
        [CONTENDER.sagaApproved]: figures(159),
        [CONTENDER.saga]: figures(99.9),
        [CONTENDER.orchestration]: figures(89.8),
        [CONTENDER.sagaAlone]: figures(40, 20.1),
        [CONTENDER.steadyLag]: figures(50, 3, 20.1),
      }),
    );
    expect(failing).toEqual({
      "saga orders/s (choreography, approved path) vs the bare pipeline": false,
      "saga orders/s vs commit 0123456789, same load": false,
      "orchestration vs choreography orders/s": false,
      "one order alone, create → APPROVED, p50": true,
      "one order alone p50 vs the bare pipeline's": false,
      "outbox commit → publish lag p99 at 50 % of max load": false,
    });
    expect(met(result({ [CONTENDER.orchestration]: figures(89.9) }))["orchestration vs choreography orders/s"]).toBe(
      false,
    );
    expect(met(result({ [CONTENDER.sagaAlone]: figures(40, 25.1) }))["one order alone, create → APPROVED, p50"]).toBe(
      false,
    );
  });

  it("leave out the previous commit's row when there is no previous figure, and print as a table", () => {
    expect(sagaGoals(undefined).map((g) => g.over)).not.toContain(CONTENDER.previous);
    const printed = formatReport(result({}), {
      seconds: 1,
      warmupSeconds: 1,
      concurrency: 1,
      rounds: 1,
      progress: () => {},
    });
    expect(printed).toMatch(/^figure +\| this run \| goal +\| met\? *$/m);
    expect(printed).toMatch(/^one order alone, create → APPROVED, p50 +\| 20\.0 ms +\| ≤ 25\.0 ms \| PASS/m);
  });
});
