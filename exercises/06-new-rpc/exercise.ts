// Exercise 6: add an operation. A new RPC is MINOR: no client has ever called it, so none can break. And a
// client needs no regenerated code to try it: the server describes itself through reflection, which is how
// grpcurl learns the method's request and response types from the running service.
import { loadConsumerConfig, startConsumer } from "@ftgo/consumer";
import { ConsumerService } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { grpcurl } from "@ftgo/harness/grpcurl.js";
import { bufSays } from "../../scripts/lib/exercises/buf-says.js";
import { withService } from "../../scripts/lib/exercises/one-service.js";
import { loadReleaseImage, releasedClient, releasedService } from "../../scripts/lib/exercises/release-image.js";
import type { Exercise, Verdict } from "../../scripts/lib/exercises/types.js";

const SERVICE = "ftgo.consumer.v1.ConsumerService";
const METHOD = "ListConsumers";
const SEED_IDS = ["c-1001", "c-1002", "c-1003"];

const startTheTreesConsumer = (scratch: string, use: (address: string) => Promise<Verdict>) =>
  withService(
    scratch,
    (env, log) => startConsumer(loadConsumerConfig(env), log),
    ({ service }) => use(service.address),
  );

/** grpcurl, knowing nothing but the address: `list` through reflection, then the call itself. */
async function callWithGrpcurl(address: string): Promise<Verdict> {
  const listed = await grpcurl("-plaintext", address, "list", SERVICE);
  if (listed.code !== 0) return { ok: false, missing: `grpcurl list failed: ${listed.stderr.trim()}` };
  if (!listed.stdout.includes(`${SERVICE}.${METHOD}`)) {
    return {
      ok: false,
      missing:
        `the running Consumer does not offer ${METHOD} (grpcurl list shows:\n  ${listed.stdout.trim().replaceAll("\n", "\n  ")})\n` +
        `Add \`rpc ${METHOD}(${METHOD}Request) returns (${METHOD}Response)\` to ConsumerService, ` +
        "run `npm run generate`, and implement it in services/consumer/src/service.ts.",
    };
  }
  const called = await grpcurl("-plaintext", "-d", "{}", address, `${SERVICE}/${METHOD}`);
  if (called.code !== 0) {
    return {
      ok: false,
      missing: `grpcurl ${SERVICE}/${METHOD} failed:\n  ${called.stderr.trim()}\nImplement it in service.ts.`,
    };
  }
  const absent = SEED_IDS.filter((id) => !called.stdout.includes(`"consumerId": "${id}"`));
  if (absent.length > 0) {
    return { ok: false, missing: `${METHOD} answered without ${absent.join(", ")}: it should return every consumer.` };
  }
  return { ok: true, detail: `grpcurl ${SERVICE}/${METHOD} listed ${SEED_IDS.join(", ")}` };
}

/** The release's client: GetConsumer works as before, and ListConsumers does not exist for it. */
async function oldClientUnchanged(address: string, latestRelease: string): Promise<Verdict> {
  const image = loadReleaseImage(latestRelease);
  const known = releasedService(image, SERVICE).methods.map((method) => method.name);
  const old = releasedClient(image, SERVICE, address);
  try {
    const answer = (await old.call("GetConsumer", { consumerId: "c-1001" })) as { consumer?: { name?: string } };
    if (answer.consumer?.name !== "Ana Nguyen") {
      return { ok: false, missing: `GetConsumer c-1001 answered ${JSON.stringify(answer.consumer?.name)}` };
    }
    return { ok: true, detail: `the v1.0.0 client knows ${known.join(", ")} and still gets c-1001 Ana Nguyen` };
  } finally {
    old.close();
  }
}

const exercise: Exercise = {
  number: 6,
  slug: "new-rpc",
  title: "Add an RPC, call it with grpcurl without regenerating a client",
  teaches: "a new operation is MINOR; server reflection lets any client call it before anyone regenerates code",
  touches: [
    "proto/ftgo/consumer/v1/consumer.proto",
    "services/consumer/src/service.ts",
    "services/consumer/src/store.ts",
  ],
  checks: [
    {
      name: "buf breaking against the latest release passes (a new operation is MINOR)",
      async run(ctx) {
        const result = await ctx.breakingAgainstRelease();
        if (result.code === 0) return { ok: true };
        return {
          ok: false,
          missing: `buf breaking against ${ctx.latestReleaseVersion} fails:\n${bufSays(result)}\nAdd; change nothing else.`,
        };
      },
    },
    { name: "gen/ is what `npm run generate` makes from proto/", run: (ctx) => ctx.generatedUpToDate() },
    {
      name: `ConsumerService has ${METHOD}`,
      async run() {
        if (ConsumerService.methods.some((method) => method.name === METHOD)) return { ok: true };
        return {
          ok: false,
          missing: `ConsumerService has no method ${METHOD} yet: add it to proto/ftgo/consumer/v1/consumer.proto.`,
        };
      },
    },
    {
      name: `grpcurl finds ${METHOD} by reflection on the running Consumer and calls it`,
      run: (ctx) => startTheTreesConsumer(ctx.scratch, callWithGrpcurl),
    },
    {
      name: "a v1.0.0 client, which has never heard of it, still calls GetConsumer",
      run: (ctx) => startTheTreesConsumer(ctx.scratch, (address) => oldClientUnchanged(address, ctx.latestRelease)),
    },
  ],
};

export default exercise;
