// The change feed behind the Watch RPCs: committed changes only, in commit order, each once, none from
// before the watch began, and no watcher left behind; and a watcher on one connection (one instance of a
// service) sees the changes another connection to the same database file commits.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ChangeFeed, createChangeFeed } from "../src/change-feed.js";
import { type Database, openDatabase } from "../src/db.js";
import { waitFor } from "../src/testing/wait.js";
import { changeOn, collect, text } from "./change-feed-fixtures.js";

const SCHEMA = ["CREATE TABLE things (id TEXT PRIMARY KEY, state TEXT NOT NULL)"];

let db: Database;
let feed: ChangeFeed<string>;
let calls: AbortController;

beforeEach(() => {
  db = openDatabase(":memory:", SCHEMA);
  db.prepare("INSERT INTO things (id, state) VALUES ('t-1', 'A')").run();
  feed = createChangeFeed(db, { name: "things", codec: text });
  calls = new AbortController();
});
afterEach(() => {
  calls.abort();
  feed.close();
  db.close();
});

/** A change made on this test's connection and feed (changeOn another's, for the tests across instances). */
const change = (state: string) => changeOn(db, feed, state);

const currentState = () => (db.prepare("SELECT state FROM things WHERE id = 't-1'").get() as { state: string }).state;

describe("createChangeFeed", () => {
  it("delivers each committed change once, in commit order, even several committed in one tick", async () => {
    const watch = feed.watch("t-1", calls.signal, currentState);
    const { seen } = collect(watch.changes);
    change("B");
    change("C"); // both commit before the feed delivers: neither may be lost or replaced by the other
    change("D");
    await waitFor(() => seen.length === 3);
    expect([watch.current, ...seen]).toEqual(["A", "B", "C", "D"]);
  });

  it("never delivers a change whose transaction rolled back", async () => {
    const watch = feed.watch("t-1", calls.signal, currentState);
    const { seen } = collect(watch.changes);
    expect(() =>
      db.transaction(() => {
        feed.publish("t-1", "ROLLED-BACK");
        throw new Error("the handler failed");
      })(),
    ).toThrow("the handler failed");
    change("B"); // published after the rolled-back one, in the same delivery round: it would come second
    await waitFor(() => seen.length > 0);
    expect(seen).toEqual(["B"]);
  });

  it("does not repeat a change committed before the watch read its current state", async () => {
    change("B"); // committed, not yet delivered when the watch begins: the current state already shows it
    const watch = feed.watch("t-1", calls.signal, currentState);
    const { seen } = collect(watch.changes);
    change("C");
    await waitFor(() => seen.length > 0);
    expect([watch.current, ...seen]).toEqual(["B", "C"]);
  });

  it("gives every watcher of a key the same changes, and none of another key's", async () => {
    const watchers = [1, 2, 3].map(() => collect(feed.watch("t-1", calls.signal, currentState).changes));
    const other = collect(feed.watch("t-2", calls.signal, () => "none").changes);
    change("B");
    change("C");
    await waitFor(() => watchers.every(({ seen }) => seen.length === 2));
    for (const { seen } of watchers) expect(seen).toEqual(["B", "C"]);
    expect(other.seen).toEqual([]);
  });

  it("forgets a watcher when its signal aborts, even one whose changes nobody read", async () => {
    const call = new AbortController();
    feed.watch("t-1", call.signal, currentState);
    const read = feed.watch("t-1", call.signal, currentState);
    const { done } = collect(read.changes);
    expect(feed.listenerCount("t-1")).toBe(2);
    call.abort();
    expect(feed.listenerCount()).toBe(0);
    await done; // the loop over the changes ends without an error
  });

  it("forgets a watcher when its reader leaves the loop", async () => {
    const watch = feed.watch("t-1", calls.signal, currentState);
    change("B");
    for await (const value of watch.changes) {
      expect(value).toBe("B");
      break;
    }
    expect(feed.listenerCount("t-1")).toBe(0);
  });

  it("leaves nothing subscribed when reading the current state fails", () => {
    expect(() =>
      feed.watch("t-9", calls.signal, () => {
        throw new Error("t-9 not found");
      }),
    ).toThrow("t-9 not found");
    expect(feed.listenerCount()).toBe(0);
  });

  it("ends every watch when it closes", async () => {
    const { done } = collect(feed.watch("t-1", calls.signal, currentState).changes);
    feed.close();
    await done;
    expect(feed.listenerCount()).toBe(0);
  });
});

describe("createChangeFeed across instances sharing one database file", () => {
  let dir: string;
  let other: Database;
  let otherFeed: ChangeFeed<string>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "change-feed-"));
    const file = join(dir, "things.db");
    // Replaces the in-memory database of the outer beforeEach: both "instances" open the same file.
    feed.close();
    db.close();
    db = openDatabase(file, SCHEMA);
    db.prepare("INSERT INTO things (id, state) VALUES ('t-1', 'A')").run();
    feed = createChangeFeed(db, { name: "things", codec: text });
    other = openDatabase(file, SCHEMA);
    otherFeed = createChangeFeed(other, { name: "things", codec: text, pollMs: 10 });
  });
  afterEach(() => {
    otherFeed.close();
    other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers to a watcher on one connection the changes another commits, once each, in commit order", async () => {
    const watch = otherFeed.watch(
      "t-1",
      calls.signal,
      () => (other.prepare("SELECT state FROM things WHERE id = 't-1'").get() as { state: string }).state,
    );
    const { seen } = collect(watch.changes);
    change("B");
    expect(() =>
      db.transaction(() => {
        feed.publish("t-1", "ROLLED-BACK");
        throw new Error("the handler failed");
      })(),
    ).toThrow("the handler failed");
    change("C");
    change("D");
    await waitFor(() => seen.length === 3);
    expect([watch.current, ...seen]).toEqual(["A", "B", "C", "D"]);
  });

  it("interleaves both connections' changes in the order they committed", async () => {
    const watch = feed.watch("t-1", calls.signal, currentState);
    const { seen } = collect(watch.changes);
    changeOn(other, otherFeed, "B");
    change("C");
    changeOn(other, otherFeed, "D");
    await waitFor(() => seen.length === 3);
    expect(seen).toEqual(["B", "C", "D"]);
    expect(otherFeed.listenerCount()).toBe(0); // nobody watches there, yet its changes reached this watcher
  });
});
