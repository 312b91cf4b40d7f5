// Services share only the contracts (`@ftgo/gen`) and the platform (`@ftgo/platform`): they talk to each
// other over gRPC and NATS, never through each other's code. This check keeps it so. It fails when a file
// under `services/<name>/src` imports another workspace package (another service's, the test harness) or
// reaches by a relative path outside its own service. Import cycles are madge's job (`npm run check:layers`
// runs both).
//
//   npm run check:layers
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** The only workspace packages a service may import besides its own files. */
const SHARED = new Set(["@ftgo/gen", "@ftgo/platform"]);

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const servicesDir = join(root, "services");

interface Violation {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly why: string;
}

/** The `.ts` files under `dir`, recursively. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.isFile() && entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** `@ftgo/delivery/couriers` → `@ftgo/delivery`; undefined for anything that is not an @ftgo package. */
function ftgoPackageOf(specifier: string): string | undefined {
  const [scope, name] = specifier.split("/");
  return scope === "@ftgo" && name ? `${scope}/${name}` : undefined;
}

/** What is wrong with `specifier` imported from a file of service `service`, or undefined if nothing. */
function judge(service: string, file: string, specifier: string): string | undefined {
  if (specifier.startsWith(".")) {
    const target = resolve(dirname(file), specifier);
    const home = join(servicesDir, service) + sep;
    return target.startsWith(home) ? undefined : `reaches outside services/${service}`;
  }
  const pkg = ftgoPackageOf(specifier);
  if (pkg === undefined || SHARED.has(pkg) || pkg === `@ftgo/${service}`) return undefined;
  return `imports ${pkg}: services share only ${[...SHARED].join(" and ")}`;
}

/** Every import, export-from, `import()` and `require()` of every file under services/<name>/src. */
function findViolations(): Violation[] {
  const violations: Violation[] = [];
  for (const service of readdirSync(servicesDir).sort()) {
    const src = join(servicesDir, service, "src");
    let files: string[];
    try {
      files = sourceFiles(src);
    } catch {
      continue; // a service without src/ has nothing to check
    }
    for (const file of files.sort()) {
      const text = readFileSync(file, "utf8");
      // preProcessFile sees type-only imports too: a type is as much a dependency on another service's code.
      for (const { fileName, pos } of ts.preProcessFile(text, true, true).importedFiles) {
        const why = judge(service, file, fileName);
        if (why) {
          const line = text.slice(0, pos).split("\n").length;
          violations.push({ file: relative(root, file), line, specifier: fileName, why });
        }
      }
    }
  }
  return violations;
}

const violations = findViolations();
for (const { file, line, specifier, why } of violations) console.error(`${file}:${line}  "${specifier}"  ${why}`);
if (violations.length > 0) {
  console.error(`\n✖ ${violations.length} import(s) across service boundaries`);
  process.exitCode = 1;
} else {
  console.log("✔ every service imports only @ftgo/gen, @ftgo/platform and its own files");
}
