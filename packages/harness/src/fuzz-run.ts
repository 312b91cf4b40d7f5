// What the fuzz tests share: their size and seed from the environment (FUZZ_RUNS, FUZZ_SEED: every failure names
// both, so it can be replayed), and a tally of what was sent and how it was answered, printed when the file ends.

export interface FuzzSettings {
  readonly runs: number;
  readonly seed: number;
  /** "FUZZ_SEED=… FUZZ_RUNS=…": appended to every failure message. */
  readonly replay: string;
}

export function fuzzSettings(): FuzzSettings {
  const runs = integerFrom("FUZZ_RUNS", 100);
  const seed = integerFrom("FUZZ_SEED", Math.floor(Math.random() * 0x7fff_ffff));
  return { runs, seed, replay: `FUZZ_SEED=${seed} FUZZ_RUNS=${runs}` };
}

function integerFrom(name: "FUZZ_RUNS" | "FUZZ_SEED", fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || (name === "FUZZ_RUNS" && value < 1)) {
    throw new Error(`${name}=${JSON.stringify(text)} is not ${name === "FUZZ_RUNS" ? "a positive" : "an"} integer`);
  }
  return value;
}

/** Counts per target (a method, an operation) of each input kind and its answer. */
export interface FuzzTally {
  /** The counter of one target: call it with each input's kind and the answer's status. */
  of(target: string): (kind: string, answer: string) => void;
  /** "<title>: <replay>, N <targets>, M <units> in S s", then a line per target by status, and one by input kind. */
  report(title: string, names: { readonly targets: string; readonly units: string }): string;
}

export function createFuzzTally(settings: FuzzSettings): FuzzTally {
  const counts = new Map<string, Map<string, number>>();
  const startedAt = Date.now();
  const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);
  const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);
  const listed = (map: Map<string, number>) => [...map].map(([key, n]) => `${key} ${n}`).join(", ");
  return {
    of(target) {
      const tally = new Map<string, number>();
      counts.set(target, tally);
      return (kind, answer) => add(tally, `${kind} → ${answer}`, 1);
    },
    report(title, names) {
      const byKind = new Map<string, number>();
      const lines = [...counts].map(([target, tally]) => {
        const byAnswer = new Map<string, number>();
        for (const [key, n] of tally) {
          const [kind = "", answer = ""] = key.split(" → ");
          add(byAnswer, answer, n);
          add(byKind, kind, n);
        }
        return `  ${target}: ${sum(tally.values())} ${names.units} (${listed(byAnswer)})`;
      });
      lines.push(`  inputs: ${listed(byKind)}`);
      const seconds = Math.round((Date.now() - startedAt) / 1000);
      const head = `${title}: ${settings.replay}, ${counts.size} ${names.targets}, ${sum(byKind.values())} ${names.units} in ${seconds} s`;
      return `${head}\n${lines.join("\n")}`;
    },
  };
}
