// `npm run build:services`: bundles every TypeScript service (services/<dir>/src/main.ts) into
// node_modules/.cache/ftgo-services/<dir>/main.mjs, the files `make up` and the tests run with plain node.
// `make up` runs the same build itself, so this is for seeing it happen, or `--force` to rebuild everything.
import { buildServices, shownPath } from "@ftgo/harness/service-build.js";

const force = process.argv.includes("--force");
const started = performance.now();
const builds = await buildServices({ force });
const rebuilt = builds.filter((b) => b.rebuilt);
for (const b of builds) console.log(`${b.rebuilt ? "built     " : "up to date"}  ${shownPath(b.main)}`);
console.log(`${rebuilt.length} of ${builds.length} rebuilt in ${Math.round(performance.now() - started)} ms`);
