// What the change feed's tests share, on either engine (change-feed.test.ts on SQLite, db-postgres.test.ts on
// PostgreSQL): a feed of plain strings over a `things` table, a change made as the stores make one, and a reader
// that collects what a watch receives.
import type { ChangeCodec, ChangeFeed } from "../src/change-feed.js";
import type { Database } from "../src/db.js";

/** A feed's values as UTF-8 text: what a test writes is what it reads back. */
export const text: ChangeCodec<string> = {
  encode: (value) => Buffer.from(value),
  decode: (bytes) => Buffer.from(bytes).toString(),
};

/** A state change of t-1 on `db` and its announcement on `feed`, in one transaction, as the stores make them. */
export function changeOn(db: Database, feed: ChangeFeed<string>, state: string): void {
  db.transaction(() => {
    db.prepare("UPDATE things SET state = ? WHERE id = 't-1'").run(state);
    feed.publish("t-1", state);
  })();
}

/**
 * Collects what a watch receives, in the background: `seen` grows as changes arrive; `done` resolves when the
 * loop over them ends (the watch's signal aborted, or the feed closed).
 */
export function collect(changes: AsyncIterable<string>): { seen: string[]; done: Promise<void> } {
  const seen: string[] = [];
  const done = (async () => {
    for await (const value of changes) seen.push(value);
  })();
  return { seen, done };
}
