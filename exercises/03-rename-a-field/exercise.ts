// Exercise 3: rename a field. Timestamps here are named `*_time` (create_time, update_time), so
// AcceptTicketRequest.ready_by is to be called ready_time. On the wire only the number travels, so a rename is
// safe for binary clients; JSON sends the name, so a grpcurl -d (or gateway) client with the old name breaks.
// The MINOR way keeps the old field, deprecated, and adds the new name as a new field that Kitchen reads first.

import { type DescField, fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ScheduleDeliverySchema } from "@ftgo/gen/ftgo/delivery/v1/commands_pb.js";
import { AcceptTicketRequestSchema, KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { grpcurl } from "@ftgo/harness/grpcurl.js";
import Database from "better-sqlite3";
import { kitchenWithTickets } from "../../scripts/lib/exercises/kitchen.js";
import type { Exercise, Verdict } from "../../scripts/lib/exercises/types.js";

const OLD = "ready_by";
const NEW = "ready_time";
const RIGHT_WAY = `keep \`google.protobuf.Timestamp ${OLD} = 2 [deprecated = true];\`, add \`google.protobuf.Timestamp ${NEW} = 3;\`, and have Kitchen use ${NEW} when set, else ${OLD}`;
const READY = "2030-01-01T12:00:00Z";

const timestampField = (name: string): DescField | undefined =>
  AcceptTicketRequestSchema.fields.find(
    (f) => f.name === name && f.fieldKind === "message" && f.message.typeName === "google.protobuf.Timestamp",
  );

/** The ready_by of the ScheduleDelivery Kitchen wrote to its outbox for `orderId`, as an ISO string. */
function scheduledReadyBy(dbFile: string, orderId: string): string | undefined {
  const db = new Database(dbFile, { readonly: true });
  try {
    const row = db
      .prepare<[string, string], { payload: Buffer }>(
        "SELECT payload FROM outbox WHERE correlation_id = ? AND type = ?",
      )
      .get(orderId, ScheduleDeliverySchema.typeName);
    const readyBy = row && fromBinary(ScheduleDeliverySchema, row.payload).readyBy;
    return readyBy && timestampDate(readyBy).toISOString().replace(".000Z", "Z");
  } finally {
    db.close();
  }
}

const exercise: Exercise = {
  number: 3,
  slug: "rename-a-field",
  title: "Rename a field",
  teaches: "a rename is wire-safe but breaks JSON clients (FIELD_SAME_JSON_NAME); add the new name, deprecate the old",
  touches: ["services/kitchen/src"],
  wrong: { hint: /no known field named readyBy[\s\S]*FIELD_SAME_JSON_NAME/ },
  checks: [
    {
      name: `AcceptTicketRequest has \`google.protobuf.Timestamp ${NEW}\``,
      async run() {
        return timestampField(NEW) ? { ok: true } : { ok: false, missing: `add it: ${RIGHT_WAY}` };
      },
    },
    {
      name: `\`${OLD}\` (2) is still there, marked deprecated`,
      async run(): Promise<Verdict> {
        const old = timestampField(OLD);
        if (old?.number === 2 && old.deprecated) return { ok: true };
        return {
          ok: false,
          missing: old
            ? `mark ${OLD} \`[deprecated = true]\` and say to use ${NEW}`
            : `${OLD} is gone or renamed: ${RIGHT_WAY}`,
        };
      },
    },
    {
      name: "grpcurl -d with the old JSON name (readyBy) and with the new one (readyTime): both accepted, both reach the ScheduleDelivery",
      async run(ctx): Promise<Verdict> {
        const kitchen = await kitchenWithTickets(ctx.scratch, ["o-json-old", "o-json-new"]);
        try {
          const method = `${KitchenService.typeName}/AcceptTicket`;
          const problems: string[] = [];
          for (const [orderId, name] of [
            ["o-json-old", "readyBy"],
            ["o-json-new", "readyTime"],
          ] as const) {
            const body = JSON.stringify({ orderId, [name]: READY });
            const call = await grpcurl("-plaintext", "-d", body, kitchen.address, method);
            if (call.code !== 0) {
              problems.push(
                `grpcurl -plaintext -d '${body}' … ${method} fails:\n${(call.stderr + call.stdout).trim()}`,
              );
              continue;
            }
            const scheduled = scheduledReadyBy(kitchen.dbFile, orderId);
            if (scheduled !== READY)
              problems.push(
                `sent ${name} ${READY}, Kitchen scheduled the delivery for ${scheduled ?? "as soon as possible"}`,
              );
          }
          if (problems.length === 0)
            return { ok: true, detail: `both names accepted; both delivery commands say ready by ${READY}` };
          return { ok: false, missing: `${problems.join("\n")}\nJSON clients send names: ${RIGHT_WAY}` };
        } finally {
          await kitchen.stop();
        }
      },
    },
    {
      name: "buf breaking (FILE rules, the gate's) against the release passes",
      async run(ctx) {
        const result = await ctx.breakingAgainstRelease();
        if (result.code === 0) return { ok: true };
        const said = result.findings.map((f) => `${f.rule}: ${f.message}`).join("\n");
        return {
          ok: false,
          missing: `buf breaking --against ${ctx.latestReleaseVersion} says:\n${said}\n${RIGHT_WAY}`,
        };
      },
    },
    {
      name: "generated code is up to date",
      run: (ctx) => ctx.generatedUpToDate(),
    },
  ],
};

export default exercise;
