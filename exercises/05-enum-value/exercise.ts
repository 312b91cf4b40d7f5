// Exercise 5: add a value to an enum. The number is what travels; the name is only this side's label. A client
// built before the value existed gets the number and nothing else: protobuf-es keeps it (enums are open in
// proto3), JSON can only print it as a number, and the client's own switch has no case for it.
import { join } from "node:path";
import { toJson } from "@bufbuild/protobuf";
import { loadConsumerConfig, startConsumer } from "@ftgo/consumer";
import { ConsumerService, ConsumerStateSchema } from "@ftgo/gen/ftgo/consumer/v1/consumer_pb.js";
import { createGrpcClient, createGrpcTransport } from "@ftgo/platform";
import Database from "better-sqlite3";
import { bufSays } from "../../scripts/lib/exercises/buf-says.js";
import { withService } from "../../scripts/lib/exercises/one-service.js";
import { loadReleaseImage, releasedClient, releasedEnum } from "../../scripts/lib/exercises/release-image.js";
import type { Exercise, Verdict } from "../../scripts/lib/exercises/types.js";

const NEW_VALUE = "CONSUMER_STATE_CLOSED";
const NEW_NUMBER = 3;
const CLOSED_CONSUMER = { consumerId: "c-9005", name: "Dana Closed" };

/** The value the learner adds, as today's generated code describes it; undefined until it exists. */
function newValue() {
  return ConsumerStateSchema.values.find((value) => value.name === NEW_VALUE);
}

/**
 * Stores a consumer in the new state straight in Consumer's database (no API writes consumers), then reads it
 * back over gRPC twice: with a client made from the release image, and with today's generated client.
 */
async function whatAnOldClientSees(scratch: string, latestRelease: string): Promise<Verdict> {
  const image = loadReleaseImage(latestRelease);
  const oldEnum = releasedEnum(image, "ftgo.consumer.v1.ConsumerState");
  return withService(
    scratch,
    (env, log) => startConsumer(loadConsumerConfig(env), log),
    async ({ service, dataDir }) => {
      const db = new Database(join(dataDir, "consumer.db"));
      try {
        db.prepare("INSERT INTO consumers (consumer_id, name, state) VALUES (?, ?, 'CLOSED')").run(
          CLOSED_CONSUMER.consumerId,
          CLOSED_CONSUMER.name,
        );
      } finally {
        db.close();
      }
      const old = releasedClient(image, "ftgo.consumer.v1.ConsumerService", service.address);
      const transport = createGrpcTransport({ address: service.address });
      try {
        const oldAnswer = await old.call("GetConsumer", { consumerId: CLOSED_CONSUMER.consumerId });
        const oldJson = toJson(old.schemaOf("GetConsumer"), oldAnswer) as { consumer?: { state?: unknown } };
        const today = await createGrpcClient(ConsumerService, transport).getConsumer({
          consumerId: CLOSED_CONSUMER.consumerId,
        });
        const number: number = today.consumer?.state ?? 0;
        const oldName = oldEnum.values.find((value) => value.number === number)?.name;
        if (number !== NEW_NUMBER && oldName && number !== 0) {
          return {
            ok: false,
            missing:
              `Consumer answered state ${number} for a CLOSED consumer, and a v1.0.0 client reads ${number} as ` +
              `${oldName}: the number already meant something. Give ${NEW_VALUE} the next free number, ${NEW_NUMBER}.`,
          };
        }
        if (number !== NEW_NUMBER) {
          return {
            ok: false,
            missing:
              `Consumer answered state ${number} for a consumer stored as CLOSED: without ${NEW_VALUE} the store ` +
              "cannot name it, and it reads as the zero value, UNSPECIFIED (which is why 0 must never mean ACTIVE). " +
              `Add ${NEW_VALUE} = ${NEW_NUMBER} to ConsumerState and run \`npm run generate\`.`,
          };
        }
        const oldState = oldJson.consumer?.state;
        const oldCase = oldEnum.values.find((value) => value.number === oldState)?.name ?? "default";
        if (oldState !== NEW_NUMBER) {
          return { ok: false, missing: `the v1.0.0 client should see state ${NEW_NUMBER}, it saw ${String(oldState)}` };
        }
        return {
          ok: true,
          detail:
            `today's client: ${ConsumerStateSchema.values.find((v) => v.number === number)?.name}; ` +
            `the v1.0.0 client: JSON "state": ${JSON.stringify(oldState)}, its switch goes to ${oldCase}`,
        };
      } finally {
        old.close();
        transport.close();
      }
    },
  );
}

const exercise: Exercise = {
  number: 5,
  slug: "enum-value",
  title: "Add an enum value",
  teaches:
    "a new enum value is MINOR, but an old client sees only its number: keep the numbers, and make 0 mean nothing",
  touches: ["proto/ftgo/consumer/v1/consumer.proto", "services/consumer/src/steps.ts"],
  checks: [
    {
      name: "buf breaking against the latest release passes (a new enum value is MINOR)",
      async run(ctx) {
        const result = await ctx.breakingAgainstRelease();
        if (result.code === 0) return { ok: true };
        return {
          ok: false,
          missing:
            `buf breaking against ${ctx.latestReleaseVersion} fails:\n${bufSays(result)}\n` +
            "An enum value's number is what travels on the wire and is stored by every client: never renumber. " +
            `Keep each existing value where it is and give the new one the next free number (${NEW_NUMBER}).`,
        };
      },
    },
    { name: "gen/ is what `npm run generate` makes from proto/", run: (ctx) => ctx.generatedUpToDate() },
    {
      name: `ConsumerState has ${NEW_VALUE} = ${NEW_NUMBER}`,
      async run() {
        const value = newValue();
        if (!value) {
          return {
            ok: false,
            missing: `ConsumerState has no value ${NEW_VALUE} yet: add it to proto/ftgo/consumer/v1/consumer.proto.`,
          };
        }
        if (value.number !== NEW_NUMBER) {
          return {
            ok: false,
            missing: `${NEW_VALUE} is ${value.number}: give it the next free number, ${NEW_NUMBER}.`,
          };
        }
        return { ok: true };
      },
    },
    {
      name: "a v1.0.0 client reads a CLOSED consumer over a real call, as a bare number",
      run: (ctx) => whatAnOldClientSees(ctx.scratch, ctx.latestRelease),
    },
  ],
  wrong: { hint: /changed name from "CONSUMER_STATE_SUSPENDED"[\s\S]*never renumber/ },
};

export default exercise;
