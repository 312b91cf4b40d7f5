// The build step of the TypeScript services: each services/<dir>/src/main.ts bundled by esbuild into
// node_modules/.cache/ftgo-services/<dir>/main.mjs, which `make up`, the tests and the benchmarks run with
// plain `node`. Transpiling with tsx at every start cost each process a second or more of CPU, and ten of them
// on two cores made a start slow and fragile on a busy machine; a bundle loads in a fraction of that.
//
// What goes into a bundle: the workspace's own TypeScript (the service, @ftgo/platform, @ftgo/gen) and the npm
// packages it imports, so that a start reads one file instead of resolving and compiling a few hundred modules
// (loading them was about 260 ms of Kitchen's ~500 ms to SERVING). A few packages stay plain imports, resolved
// from node_modules at run time (KEPT_EXTERNAL says why for each): a native addon, and packages that read files
// beside their own code. Packages that the platform loads with createRequire on first use (@grpc/reflection,
// pg-native) are not seen by esbuild and stay out as well. What only a dynamic import() reaches (the tracing SDK,
// loaded when traces are exported; jose, on the first end-user claim) is a chunk beside the bundle, read when used.
//
// Why node_modules/.cache: it is a build cache (as Babel's and ESLint's are), which git, Biome and every
// tool already leave alone, and `rm -rf node_modules` clears it with the install it was built against. `.mjs`:
// inside node_modules no package.json says "type": "module".
//
// A build is skipped when nothing it read has changed: next to each bundle, inputs.json holds the SHA-256 of
// the build options and of every workspace file esbuild read for it (its metafile's inputs). The npm packages
// it read, a thousand files, are stood for by node_modules/.package-lock.json, which npm rewrites at every
// install; so a check reads some thirty files, not every package again (a hand edit inside node_modules goes
// unnoticed: `npm run build:services -- --force` rebuilds). Content, not mtimes: a `git checkout` that restores
// an older file must rebuild, and a touch alone need not.
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
/**
 * The npm packages a bundle leaves as imports, and why. Everything else a service imports is bundled.
 */
const KEPT_EXTERNAL: Readonly<Record<string, string>> = {
  "better-sqlite3": "a native addon, found by `bindings` beside the package",
  "@grpc/proto-loader": "reached only from grpc-js's channelz and ORCA (which no service serves); loads .proto files",
  "@fastify/swagger": "reads its own package.json by __dirname",
  "@fastify/swagger-ui": "serves the static files beside its code",
};
/**
 * Bundled CommonJS packages call `require` for Node's built-ins; an ES module has no `require`, so the bundle
 * makes one (esbuild's require shim uses it when it exists).
 */
const BANNER =
  'import { createRequire as __ftgoCreateRequire } from "node:module";\nconst require = __ftgoCreateRequire(import.meta.url);';
/** What changes every bundle when it changes: part of each bundle's stamp, so that changing it rebuilds. */
const OPTIONS = {
  esbuild: esbuildVersion,
  ...RUNTIME,
  external: Object.keys(KEPT_EXTERNAL),
  banner: BANNER,
  splitting: "chunk-[hash] per dynamic import",
  importMetaUrl: "source",
};
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

/**
 * Node's flags for a service process, which `make up` and the harness both pass: a smaller young generation
 * (2 MB semi-spaces instead of up to 16) and one V8 worker thread instead of four. A service's heap is small and
 * its requests allocate little, so neither costs throughput measurably (the saga bench), and together they take
 * about 7 MB off each process's resident memory (npm run bench -- startup).
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=2", "--v8-pool-size=1"];

/** glibc's malloc keeps one arena per thread that allocates; two are plenty for one event loop and its helpers. */
const SERVICE_PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "2" };

/** How to run a program: its file, its arguments, and what it needs in its environment besides the caller's. */
export interface ProgramCommand {
  readonly command: string;
  readonly args: string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * `node`, its flags and the bundle's path (relative to `cwd`) that run services/<dir>'s bundle, and the
 * environment it runs in: everything that makes a service process what `make up` and the harness both start.
 */
export function bundleCommand(dir: string, cwd = ROOT): ProgramCommand {
  return {
    command: process.execPath,
    args: [...SERVICE_NODE_FLAGS, relative(cwd, builtMain(dir))],
    env: SERVICE_PROCESS_ENV,
  };
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
  await Promise.all(dirs.map((dir) => bundleOne(dir, root)));
}

/**
 * One service's bundle: main.mjs, and a chunk beside it for each module only a dynamic import() reaches (the
 * tracing SDK, jose), so that a process parses those only when it loads them. One build per service keeps each
 * service's chunks in its own folder. Chunks have content-hashed names and are never deleted here: a process
 * still running an older main.mjs may import its chunk later.
 */
async function bundleOne(dir: string, root: string): Promise<void> {
  const outdir = `${OUT_DIR}/${dir}`;
  const result = await build({
    absWorkingDir: root,
    entryPoints: [{ in: `services/${dir}/src/main.ts`, out: "main" }],
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    chunkNames: "chunk-[hash]",
    ...RUNTIME,
    banner: { js: BANNER },
    plugins: [keptExternal, importMetaUrlOfSource],
    metafile: true,
    write: false,
    logLevel: "warning",
    // No source maps: the bundle is not minified, and each module is marked with its source path, so a stack
    // trace reads as it is; Node's --enable-source-maps would make every stack trace (grpc-js takes one per
    // call) pay for the mapping. NODE_OPTIONS=--enable-source-maps with TSX=1 is the debugging path.
  });
  // The chunks first: a process that starts from the new main.mjs must find every chunk it names.
  const main = builtMain(dir, root);
  const files = [...result.outputFiles].sort((a, b) => Number(a.path === main) - Number(b.path === main));
  for (const file of files) writeAtomically(file.path, file.contents);
  const read = Object.values(result.metafile.outputs).flatMap((output) => Object.keys(output.inputs));
  const inputs = Object.fromEntries(
    stampedInputs([...new Set(read)]).map((path) => [path, hashOf(join(root, path)) ?? ""]),
  );
  const stamp: Stamp = { options: OPTIONS_KEY, inputs };
  writeAtomically(stampPath(dir, root), JSON.stringify(stamp, null, 1));
}

/** The packages of KEPT_EXTERNAL, and any module inside them, stay imports. */
const keptExternal: Plugin = {
  name: "kept-external",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      Object.hasOwn(KEPT_EXTERNAL, packageOf(args.path)) ? { path: args.path, external: true } : undefined,
    );
  },
};

/** "@scope/name" or "name" of a bare import ("@fastify/swagger-ui/static" → "@fastify/swagger-ui"). */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

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

/** What npm writes at every install: it stands for every file of node_modules in a stamp. */
const INSTALL_RECORD = "node_modules/.package-lock.json";

/** The files a bundle's stamp hashes: the workspace's inputs, and the install's record for the npm packages'. */
function stampedInputs(inputs: readonly string[]): string[] {
  const own = inputs.filter((path) => !path.startsWith("node_modules/"));
  return own.length < inputs.length ? [...own, INSTALL_RECORD] : own;
}

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
