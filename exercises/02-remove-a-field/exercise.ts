// Exercise 2: remove a field the right way. Accounting's Authorization stops repeating the consumer id (the
// caller knows whose order it asked about; an order id alone should not tell a stranger who ordered). The
// field goes, its number and name are reserved, and a client built from the release still reads the answer.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { AuthorizationSchema, AuthorizationState } from "@ftgo/gen/ftgo/accounting/v1/accounting_pb.js";
import { releasedMessage } from "../../scripts/lib/exercises/released.js";
import type { Exercise } from "../../scripts/lib/exercises/types.js";

const FIELD = "consumer_id";
const NUMBER = 2;
const RESERVE = `reserve it: \`reserved ${NUMBER};\` and \`reserved "${FIELD}";\` in message Authorization`;

const exercise: Exercise = {
  number: 2,
  slug: "remove-a-field",
  title: "Remove a field properly",
  teaches: "a removed field's number and name are reserved forever; FILE rules still call any removal MAJOR",
  touches: ["services/accounting/src"],
  wrong: { hint: /FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED[\s\S]*reserved 2;/ },
  checks: [
    {
      name: `Authorization no longer has \`${FIELD}\``,
      async run() {
        const field = AuthorizationSchema.fields.find((f) => f.name === FIELD);
        return field
          ? { ok: false, missing: `delete \`string ${FIELD} = ${NUMBER}\` from Authorization (accounting.proto)` }
          : { ok: true };
      },
    },
    {
      name: `Authorization reserves number ${NUMBER} and name "${FIELD}"`,
      async run() {
        const { reservedRange, reservedName } = AuthorizationSchema.proto;
        const number = reservedRange.some((r) => r.start <= NUMBER && NUMBER < r.end);
        const name = reservedName.includes(FIELD);
        if (number && name) return { ok: true };
        const lacking = [number ? "" : `the number ${NUMBER}`, name ? "" : `the name "${FIELD}"`].filter(Boolean);
        return { ok: false, missing: `${lacking.join(" and ")} not reserved: ${RESERVE}` };
      },
    },
    {
      name: "buf breaking (WIRE_JSON rules) against the release passes",
      async run(ctx) {
        const result = await ctx.breakingAgainstRelease("WIRE_JSON");
        if (result.code === 0) return { ok: true };
        const said = result.findings.map((f) => `${f.rule}: ${f.message}`).join("\n");
        return {
          ok: false,
          missing: `buf breaking --against ${ctx.latestReleaseVersion} (WIRE_JSON) says:\n${said}\nA deleted field whose number is free can be reused by the next change, and old clients would read the new field as consumer_id: ${RESERVE}`,
        };
      },
    },
    {
      name: "buf breaking (FILE rules, the gate's) reports the removal as FIELD_NO_DELETE, and nothing else",
      async run(ctx) {
        const result = await ctx.breakingAgainstRelease();
        const others = result.findings.filter((f) => !(f.rule === "FIELD_NO_DELETE" && f.message.includes(FIELD)));
        const removal = result.findings.some((f) => f.rule === "FIELD_NO_DELETE" && f.message.includes(FIELD));
        if (!removal) return { ok: false, missing: `FILE rules should still flag the removal of ${FIELD}: remove it` };
        if (others.length > 0) {
          return {
            ok: false,
            missing: `FILE rules also say:\n${others.map((f) => `${f.rule}: ${f.message}`).join("\n")}`,
          };
        }
        return {
          ok: true,
          detail:
            "FILE rules protect generated source too: code that reads .consumerId no longer compiles, so for them any removal is MAJOR, reserved or not",
        };
      },
    },
    {
      name: "generated code is up to date",
      run: (ctx) => ctx.generatedUpToDate(),
    },
    {
      name: "a client built from the release decodes today's Authorization (consumer_id empty, the rest intact)",
      async run(ctx) {
        const today = create(AuthorizationSchema, {
          orderId: "o-42",
          state: AuthorizationState.AUTHORIZED,
          reason: "",
        });
        const released = releasedMessage(ctx.latestRelease, AuthorizationSchema.typeName);
        const view = reflect(released, fromBinary(released, toBinary(AuthorizationSchema, today)));
        const read = (name: string) => {
          const field = view.desc.fields.find((f) => f.name === name);
          return field ? view.get(field) : undefined;
        };
        if (read("order_id") !== "o-42" || read("state") !== AuthorizationState.AUTHORIZED) {
          return {
            ok: false,
            missing: "the old client misreads today's Authorization: keep every other field's number and type",
          };
        }
        return {
          ok: true,
          detail: `old client reads order_id "o-42", state AUTHORIZED, ${FIELD} "${String(read(FIELD))}"`,
        };
      },
    },
  ],
};

export default exercise;
