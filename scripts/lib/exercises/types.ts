// The shape of a contract-evolution exercise, and what its checks get to work with. An exercise is data (what it
// teaches, which files the learner edits) plus checks that judge a working tree; the runner (scripts/exercise.ts)
// lists, checks, solves and resets them. Checks must type-check on the unsolved tree: they find new fields by name
// through reflection, never through generated properties that only exist once the exercise is solved.

export interface Exercise {
  readonly number: number;
  /** The folder under exercises/ is `NN-slug`; the page under docs/exercises/ is `NN-slug.md`. */
  readonly slug: string;
  readonly title: string;
  /** One line: what the learner should notice. `list` prints it. */
  readonly teaches: string;
  /** Repository paths (files or folders) the exercise edits. `reset` puts these back, with proto/ and gen/. */
  readonly touches: readonly string[];
  /** Run in order; every check runs and prints, so the learner sees everything still missing at once. */
  readonly checks: readonly Check[];
  /** Present when exercises/NN-slug/wrong.patch exists: `solve --wrong` must fail with output matching `hint`. */
  readonly wrong?: { readonly hint: RegExp };
}

export interface Check {
  /** What is being judged, as the learner reads it next to ✓ or ✗ (`buf breaking against v1.0.0 passes`). */
  readonly name: string;
  run(ctx: CheckContext): Promise<Verdict>;
}

/** `missing` says, in plain words, what the learner still has to do (not what the code found). */
export type Verdict =
  | { readonly ok: true; readonly detail?: string }
  | { readonly ok: false; readonly missing: string };

export interface CommandResult {
  readonly code: number;
  /** stdout and stderr together, in the order they arrived as far as the pipes allow. */
  readonly output: string;
}

/** One complaint of `buf breaking`: the rule that fired (`FIELD_NO_DELETE`) and buf's sentence. */
export interface BreakingFinding {
  readonly rule: string;
  readonly message: string;
  readonly path: string;
  readonly line: number;
}

export interface BreakingResult extends CommandResult {
  readonly findings: readonly BreakingFinding[];
}

/** The rule sets `buf breaking` knows, strictest first. buf.yaml's own is FILE. */
export type BreakingRules = "FILE" | "PACKAGE" | "WIRE_JSON" | "WIRE";

export interface CheckContext {
  /** The tree under judgement (the learner's checkout, or solve's temporary worktree): absolute path. */
  readonly root: string;
  /** The latest release image, absolute path (proto/releases/vX.Y.Z.binpb with the highest version). */
  readonly latestRelease: string;
  /** Its version as written in the file name (`v1.0.0`), for messages. */
  readonly latestReleaseVersion: string;
  /** Runs the repository's buf (node_modules/.bin/buf) in `root`. Never throws on a non-zero exit. */
  buf(args: readonly string[]): Promise<CommandResult>;
  /**
   * `buf breaking --against <latest release> --error-format json` with `rules` (default: buf.yaml's, FILE);
   * `findings` are its lines parsed, each with the rule that fired.
   */
  breakingAgainstRelease(rules?: BreakingRules): Promise<BreakingResult>;
  /** Runs any command in `root` (or `cwd` below it). Never throws on a non-zero exit; a timeout is code 124. */
  run(
    command: string,
    args: readonly string[],
    options?: { readonly cwd?: string; readonly timeoutMs?: number; readonly env?: Record<string, string> },
  ): Promise<CommandResult>;
  /** Whether gen/ is what `buf generate` makes from proto/ now; when not, `missing` says to run `npm run generate`. */
  generatedUpToDate(): Promise<Verdict>;
  /** A scratch folder for this check run, removed when the run ends. */
  readonly scratch: string;
}
