// The released contract. Each release of the protos is a buf image in proto/releases/, named
// v<MAJOR.MINOR.PATCH>.binpb, written once by `npm run contracts:release` and never rewritten: it is what the
// clients built against that release were built from. The release script refuses to go backwards and CI's
// gate compares today's protos with the latest release; both ask this module which one that is, so "latest"
// cannot mean two things.
import { existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";

/** Where the release images live, relative to the repository root. */
export const RELEASES_DIR = "proto/releases";

/** A semantic version, MAJOR.MINOR.PATCH and nothing else (no pre-release, no build metadata). */
export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** One release image of the folder. */
export interface Release {
  readonly version: Version;
  /** `proto/releases/v1.0.0.binpb`, relative to the repository root: what `buf breaking --against` takes. */
  readonly file: string;
}

// Semver's own grammar for the three numbers: no leading zeros, so "1.01.0" cannot sort beside "1.1.0".
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const IMAGE = /^v(.*)\.binpb$/;

/** `text` as a version, or undefined when it is not exactly MAJOR.MINOR.PATCH. */
export function parseVersion(text: string): Version | undefined {
  const m = SEMVER.exec(text);
  if (!m) return undefined;
  const [major, minor, patch] = m.slice(1).map(Number) as [number, number, number];
  const version = { major, minor, patch };
  return [major, minor, patch].every(Number.isSafeInteger) ? version : undefined;
}

/** Negative when `a` comes before `b`, zero when they are the same version, positive after. */
export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function formatVersion({ major, minor, patch }: Version): string {
  return `${major}.${minor}.${patch}`;
}

/** The image file of release `version`. */
export function releaseFile(version: Version): string {
  return `${RELEASES_DIR}/v${formatVersion(version)}.binpb`;
}

/**
 * The releases among `paths` (file names or paths of the folder's files), oldest first; files that are not
 * images (this folder's README) are not releases. An image whose name is not a version throws: a release the
 * gate silently skipped would be a release nobody protects.
 */
export function releasesAmong(paths: readonly string[]): Release[] {
  const releases: Release[] = [];
  for (const name of paths.map((path) => basename(path))) {
    const text = IMAGE.exec(name)?.[1];
    if (text === undefined) continue;
    const version = parseVersion(text);
    if (!version) throw new Error(`${RELEASES_DIR}/${name} is not named v<MAJOR.MINOR.PATCH>.binpb`);
    releases.push({ version, file: releaseFile(version) });
  }
  return releases.sort((a, b) => compareVersions(a.version, b.version));
}

/** The highest release in `root`'s proto/releases/, or undefined when nothing was released yet. */
export function latestRelease(root: string): Release | undefined {
  const dir = join(root, RELEASES_DIR);
  return existsSync(dir) ? releasesAmong(readdirSync(dir)).at(-1) : undefined;
}
