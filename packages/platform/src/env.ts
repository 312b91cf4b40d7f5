// Reading the environment: one variable at a time, each problem collected rather than thrown, so that a
// wrong start-up names everything wrong in one error (loadConfig throws it). Below config.ts and every
// part's own settings (discovery, resilience), which read through the same EnvReader.

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads one variable; `problems` collects what is wrong so that start-up reports everything at once. */
export interface EnvReader {
  string(name: string, fallback: string): string;
  port(name: string, fallback: number): number;
  int(name: string, fallback: number, min?: number): number;
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T;
  /** Reports a problem found while interpreting a value (a malformed list, say), with the others. */
  problem(message: string): void;
}

/** A reader of `env` that pushes what is wrong with a variable to `problems` and goes on with the fallback. */
export function createEnvReader(env: Env, problems: string[]): EnvReader {
  const raw = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const int = (name: string, fallback: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) => {
    const value = raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  return {
    string: (name, fallback) => raw(name) ?? fallback,
    port: (name, fallback) => int(name, fallback, 0, 65535),
    int: (name, fallback, min) => int(name, fallback, min),
    problem: (message) => {
      problems.push(message);
    },
    oneOf: (name, allowed, fallback) => {
      const value = raw(name);
      if (value === undefined) return fallback;
      if ((allowed as readonly string[]).includes(value)) return value as (typeof allowed)[number];
      problems.push(`${name}=${JSON.stringify(value)} is not one of ${allowed.join(", ")}`);
      return fallback;
    },
  };
}
