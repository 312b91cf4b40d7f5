// The released contract: the buf images under proto/releases/ (vX.Y.Z.binpb). Checks judge a tree against
// the newest one, because that is what clients out there were built from.
import { readdirSync } from "node:fs";
import { join } from "node:path";

export interface Release {
  readonly version: string;
  readonly path: string;
}

/** The release image with the highest version; throws when proto/releases/ holds none. */
export function latestRelease(root: string): Release {
  const dir = join(root, "proto", "releases");
  const versions = readdirSync(dir)
    .map((name) => /^v(\d+)\.(\d+)\.(\d+)\.binpb$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[0], parts: [Number(m[1]), Number(m[2]), Number(m[3])] }))
    .sort((a, b) => a.parts[0] - b.parts[0] || a.parts[1] - b.parts[1] || a.parts[2] - b.parts[2]);
  const newest = versions.at(-1);
  if (!newest) throw new Error(`no release image in ${dir}: the exercises judge against one`);
  return { version: newest.name.replace(/\.binpb$/, ""), path: join(dir, newest.name) };
}
