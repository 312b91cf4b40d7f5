// Exercise 8: a breaking change made the right way. The new shape goes into a new package, ftgo.kitchen.v2,
// served beside v1 on the same port from the same store; one caller moves to it; v1 is marked deprecated and
// keeps answering. Nothing released changes, so the gate passes, and an old client never notices.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { KitchenService as KitchenServiceV1 } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { loadKitchenConfig, startKitchen } from "@ftgo/kitchen";
import { createGrpcClient, createGrpcTransport } from "@ftgo/platform";
import { bufSays } from "../../scripts/lib/exercises/buf-says.js";
import { withService } from "../../scripts/lib/exercises/one-service.js";
import { loadReleaseImage, releasedClient } from "../../scripts/lib/exercises/release-image.js";
import type { Exercise, Verdict } from "../../scripts/lib/exercises/types.js";

const V2_MODULE = "@ftgo/gen/ftgo/kitchen/v2/kitchen_pb.js";
const RESTAURANT = { restaurantId: "r-1" };

/** ftgo.kitchen.v2.KitchenService from the tree's gen/, or undefined until it is generated (looked up at run time). */
async function v2Service(): Promise<DescService | undefined> {
  try {
    const module = (await import(V2_MODULE)) as { KitchenService?: DescService };
    return module.KitchenService;
  } catch {
    return undefined;
  }
}

const NO_V2 =
  "there is no ftgo.kitchen.v2.KitchenService yet: write proto/ftgo/kitchen/v2/kitchen.proto with the reshaped " +
  "WatchTickets and run `npm run generate`.";

async function deprecatedNotRemoved(): Promise<Verdict> {
  const watch = KitchenServiceV1.methods.find((method) => method.name === "WatchTickets");
  if (!watch)
    return { ok: false, missing: "v1's WatchTickets is gone: v1 must stay, deprecated, until no client uses it." };
  if (!watch.deprecated) {
    return {
      ok: false,
      missing: "v1's WatchTickets is not deprecated: add `option deprecated = true;` to it, naming its successor.",
    };
  }
  return { ok: true };
}

/** Kitchen from the tree answers both versions on one port: v1 to a release-image client, v2 to today's. */
async function bothVersionsAnswer(scratch: string, latestRelease: string): Promise<Verdict> {
  const v2 = await v2Service();
  if (!v2) return { ok: false, missing: NO_V2 };
  return withService(
    scratch,
    (env, log) => startKitchen(loadKitchenConfig(env), log),
    async ({ service }) => {
      const old = releasedClient(loadReleaseImage(latestRelease), "ftgo.kitchen.v1.KitchenService", service.address);
      const transport = createGrpcTransport({ address: service.address, defaultTimeoutMs: 0 });
      const stop = new AbortController();
      try {
        const oldFirst = (await old.first("WatchTickets", RESTAURANT)) as { event?: { case?: string } };
        if (oldFirst.event?.case !== "openTickets") {
          return { ok: false, missing: `v1's first message should be openTickets, not ${oldFirst.event?.case}` };
        }
        const client = createGrpcClient(v2, transport) as unknown as {
          watchTickets(req: object, options: { signal: AbortSignal }): AsyncIterable<Record<string, unknown>>;
        };
        let newFirst: Record<string, unknown> | undefined;
        try {
          for await (const message of client.watchTickets(RESTAURANT, { signal: stop.signal })) {
            newFirst = message;
            break;
          }
        } catch (err) {
          return {
            ok: false,
            missing: `v2 WatchTickets failed (${String(err)}): register it beside v1 in services/kitchen/src/app.ts.`,
          };
        }
        const fields = v2.methods.find((m) => m.name === "WatchTickets")?.output.fields.map((f) => f.name) ?? [];
        return {
          ok: true,
          detail:
            `one port: v1.0.0 client got openTickets; v2 client got ${JSON.stringify(Object.keys(newFirst ?? {}).filter((key) => !key.startsWith("$")))} ` +
            `(v2 WatchTicketsResponse fields: ${fields.join(", ")})`,
        };
      } finally {
        stop.abort();
        old.close();
        transport.close();
      }
    },
  );
}

async function displayMigrated(root: string): Promise<Verdict> {
  const source = await readFile(join(root, "scripts/kitchen-display.ts"), "utf8");
  const usesV2 = /import \{[^}]*\bKitchenService\b[^}]*\} from "@ftgo\/gen\/ftgo\/kitchen\/v2\/kitchen_pb\.js"/.test(
    source,
  );
  const usesV1 = /import \{[^}]*\bKitchenService\b[^}]*\} from "@ftgo\/gen\/ftgo\/kitchen\/v1\/kitchen_pb\.js"/.test(
    source,
  );
  if (usesV2 && !usesV1) return { ok: true };
  return {
    ok: false,
    missing:
      "scripts/kitchen-display.ts still streams v1: import KitchenService from the v2 module and print the queue " +
      "(first message) and `changed` (every later one).",
  };
}

const exercise: Exercise = {
  number: 8,
  slug: "v2-beside-v1",
  title: "A breaking change the right way: ftgo.kitchen.v2 beside a deprecated v1",
  teaches:
    "MAJOR goes into a new package served beside the old one; callers migrate one by one; v1 is deprecated, not broken",
  touches: [
    "proto/ftgo/kitchen/v1/kitchen.proto",
    "proto/ftgo/kitchen/v2",
    "services/kitchen/src/app.ts",
    "services/kitchen/src/service.ts",
    "services/kitchen/src/service-v2.ts",
    "scripts/kitchen-display.ts",
  ],
  checks: [
    {
      name: "buf breaking against the latest release passes (v2 is new, v1 unchanged)",
      async run(ctx) {
        const result = await ctx.breakingAgainstRelease();
        if (result.code === 0) return { ok: true };
        return {
          ok: false,
          missing:
            `buf breaking against ${ctx.latestReleaseVersion} fails:\n${bufSays(result)}\n` +
            "A breaking change made in place breaks every v1 client at once. Put v1 back as released and make a v2 " +
            "package (proto/ftgo/kitchen/v2/kitchen.proto) with the new shape, served beside v1.",
        };
      },
    },
    { name: "gen/ is what `npm run generate` makes from proto/", run: (ctx) => ctx.generatedUpToDate() },
    {
      name: "ftgo.kitchen.v2.KitchenService exists and v1's WatchTickets is deprecated, not removed",
      async run() {
        if (!(await v2Service())) return { ok: false, missing: NO_V2 };
        return deprecatedNotRemoved();
      },
    },
    {
      name: "Kitchen answers v1 (to a v1.0.0 client) and v2 on the same port",
      run: (ctx) => bothVersionsAnswer(ctx.scratch, ctx.latestRelease),
    },
    { name: "the kitchen display streams v2", run: (ctx) => displayMigrated(ctx.root) },
  ],
  wrong: { hint: /make a v2 package/ },
};

export default exercise;
