// The build step of the TypeScript services: each services/<dir>/src/main.ts bundled by esbuild into
// node_modules/.cache/ftgo-services/<dir>/main.mjs, which `make up`, the tests and the benchmarks run with
// plain `node`. Transpiling with tsx at every start cost each process a second or more of CPU, and ten of them
// on two cores made a start slow and fragile on a busy machine; a bundle loads in a fraction of that.
//
// Only the workspace's own TypeScript (the service, @ftgo/platform, @ftgo/gen) goes into the bundle; every
// npm package stays a plain import, resolved from node_modules at run time. That keeps native addons
// (better-sqlite3) and packages that read files beside their own code (@grpc/reflection's .proto) working
// unchanged, and the bundle small enough to build all seven services in well under a second.
//
// Why node_modules/.cache: it is a build cache (as Babel's and ESLint's are), which git, Biome and every
// tool already leave alone, and `rm -rf node_modules` clears it with the install it was built against. `.mjs`:
// inside node_modules no package.json says "type": "module".
//
// A build is skipped when nothing it read has changed: next to each bundle, inputs.json holds the SHA-256 of
// every file esbuild read for it (its metafile's inputs) and of the build options. Content, not mtimes: a
// `git checkout` that restores an older file must rebuild, and a touch alone need not.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, version as esbuildVersion, type Plugin } from "esbuild";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
/** Where the bundles go, relative to the root. */
const OUT_DIR = "node_modules/.cache/ftgo-services";

/** The runtime the bundles are built for. */
const RUNTIME = { platform: "node", target: "node20", format: "esm" } as const;
/** What changes every bundle when it changes: part of each bundle's stamp, so that changing it rebuilds. */
const OPTIONS = { esbuild: esbuildVersion, ...RUNTIME, external: "npm", importMetaUrl: "source" };
const OPTIONS_KEY = createHash("sha256").update(JSON.stringify(OPTIONS)).digest("hex");

export interface ServiceBuild {
  /** The folder under services/ ("order", "courier"). */
  readonly dir: string;
  /** The bundle, absolute. */
  readonly main: string;
  /** False when its stamp matched every input: nothing was written. */
  readonly rebuilt: boolean;
}

/** The stamp beside each bundle: the options' key and each input's hash, by path relative to the root. */
interface Stamp {
  readonly options: string;
  readonly inputs: Record<string, string>;
}

/** The bundle of services/<dir>: what `make up` and the harness run. */
export function builtMain(dir: string, root = ROOT): string {
  return join(root, OUT_DIR, dir, "main.mjs");
}

/** The services with a composition root (services/<dir>/src/main.ts), sorted. */
export function serviceDirs(root = ROOT): string[] {
  return readdirSync(join(root, "services"))
    .filter((dir) => existsSync(join(root, "services", dir, "src", "main.ts")))
    .sort();
}

/**
 * Builds every service whose bundle is missing or stale, in one esbuild run, and says which it rebuilt.
 * Safe to run from several processes at once (a test run's setup and a `make up` it starts): each file is
 * written to a temporary name and renamed into place, so a process never starts from a half-written bundle,
 * and two builders of the same sources write the same bytes.
 */
export async function buildServices(options: { root?: string; force?: boolean } = {}): Promise<ServiceBuild[]> {
  const { root = ROOT, force = false } = options;
  const dirs = serviceDirs(root);
  const stale = dirs.filter((dir) => force || !isFresh(dir, root));
  if (stale.length > 0) await bundle(stale, root);
  return dirs.map((dir) => ({ dir, main: builtMain(dir, root), rebuilt: stale.includes(dir) }));
}

let once: Promise<ServiceBuild[]> | undefined;

/**
 * buildServices(), once per process: what every start of a service process awaits. After a test run's global
 * setup has built, each check finds the bundles fresh (hashing ~30 ms) and writes nothing.
 */
export function builtServices(): Promise<ServiceBuild[]> {
  // Built once, unless a bundle has gone since (an `npm ci` clears node_modules, and the cache with it).
  if (once && !serviceDirs().every((dir) => existsSync(builtMain(dir)))) once = undefined;
  once ??= buildServices().catch((err: unknown) => {
    once = undefined; // a failed build (a syntax error) is retried by the next start, after the fix
    throw err;
  });
  return once;
}

/** True when services/<dir>'s bundle exists and every file it was built from still has the content it had. */
export function isFresh(dir: string, root = ROOT): boolean {
  const stamp = readStamp(dir, root);
  if (!stamp || stamp.options !== OPTIONS_KEY || !existsSync(builtMain(dir, root))) return false;
  return Object.entries(stamp.inputs).every(([path, hash]) => hashOf(join(root, path)) === hash);
}

async function bundle(dirs: readonly string[], root: string): Promise<void> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: dirs.map((dir) => ({ in: `services/${dir}/src/main.ts`, out: `${dir}/main` })),
    outdir: OUT_DIR,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    ...RUNTIME,
    plugins: [npmPackagesExternal, importMetaUrlOfSource],
    metafile: true,
    write: false,
    logLevel: "warning",
    // No source maps: the bundle is not minified, and each module is marked with its source path, so a stack
    // trace reads as it is; Node's --enable-source-maps would make every stack trace (grpc-js takes one per
    // call) pay for the mapping. NODE_OPTIONS=--enable-source-maps with TSX=1 is the debugging path.
  });
  for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
  for (const [output, meta] of Object.entries(result.metafile.outputs)) {
    const dir = dirs.find((d) => output === `${OUT_DIR}/${d}/main.mjs`);
    if (!dir) continue;
    const inputs = Object.fromEntries(Object.keys(meta.inputs).map((path) => [path, hashOf(join(root, path)) ?? ""]));
    const stamp: Stamp = { options: OPTIONS_KEY, inputs };
    writeAtomically(stampPath(dir, root), JSON.stringify(stamp, null, 1));
  }
}

/**
 * Every bare import other than the workspace's own packages (@ftgo/*) stays an import: resolved from
 * node_modules when the service starts, as it is under tsx.
 */
const npmPackagesExternal: Plugin = {
  name: "npm-packages-external",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@ftgo/") ? undefined : { path: args.path, external: true },
    );
  },
};

/**
 * `import.meta.url` stays the URL of the source file it is written in, not the bundle's, so that a module that
 * finds a file relative to itself (the gateway's AsyncAPI document) finds the same file wherever the bundle is.
 */
const importMetaUrlOfSource: Plugin = {
  name: "import-meta-url-of-source",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes("/node_modules/")) return undefined;
      const source = readFileSync(args.path, "utf8");
      if (!source.includes("import.meta.url")) return undefined; // esbuild loads it as usual
      const url = JSON.stringify(pathToFileURL(args.path).href);
      return { contents: source.replaceAll("import.meta.url", url), loader: "ts" };
    });
  },
};

function stampPath(dir: string, root: string): string {
  return join(root, OUT_DIR, dir, "inputs.json");
}

function readStamp(dir: string, root: string): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(stampPath(dir, root), "utf8")) as Stamp;
  } catch {
    return undefined;
  }
}

function hashOf(path: string): string | undefined {
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
  } catch {
    return undefined; // deleted: stale
  }
}

function writeAtomically(path: string, contents: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

/** "node_modules/.cache/ftgo-services/order/main.mjs", for messages. */
export function shownPath(path: string, root = ROOT): string {
  return relative(root, path);
}
