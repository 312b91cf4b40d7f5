// Exercise 4: change a field's type. Kitchen wants to say more about a restaurant than open or not, so `bool
// open` is to become an enum. Changed in place, an old client misreads it (the same varint means something
// else); the MINOR way adds the enum as a new field and keeps the bool, deprecated and still filled.
import { join } from "node:path";
import { create, type DescField, type DescMessage, fromBinary, ScalarType, toBinary } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { type Restaurant, RestaurantSchema } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { openKitchenStore } from "@ftgo/kitchen/store";
import { releasedMessage } from "../../scripts/lib/exercises/released.js";
import type { CheckContext, Exercise, Verdict } from "../../scripts/lib/exercises/types.js";

const RIGHT_WAY =
  "put `bool open = 3` back, mark it `[deprecated = true]`, and add the new type as a new field: `RestaurantStatus status = 4`";

const fieldNamed = (desc: DescMessage, name: string): DescField | undefined => desc.fields.find((f) => f.name === name);
const isBool = (field: DescField | undefined) => field?.fieldKind === "scalar" && field.scalar === ScalarType.BOOL;

/** What a client built from the release reads as `open` in bytes today's Kitchen writes. */
function oldClientReadsOpen(ctx: CheckContext, today: Restaurant): unknown {
  const released = releasedMessage(ctx.latestRelease, RestaurantSchema.typeName);
  const view = reflect(released, fromBinary(released, toBinary(RestaurantSchema, today)));
  return view.get(fieldNamed(released, "open") as DescField);
}

/** The enum value of `field` whose name ends in `suffix` (e.g. `_CLOSED`). */
function enumValue(field: DescField, suffix: string) {
  return field.fieldKind === "enum" ? field.enum.values.find((v) => v.name.endsWith(suffix)) : undefined;
}

const exercise: Exercise = {
  number: 4,
  slug: "change-a-field-type",
  title: "Change a field's type",
  teaches: "a type changed in place is misread by old clients (the gate says FIELD_SAME_TYPE); add a new field instead",
  touches: ["services/kitchen/src"],
  wrong: { hint: /reads it as open: true[\s\S]*FIELD_SAME_TYPE/ },
  checks: [
    {
      name: "Restaurant.open (3) is still the bool it was released as",
      async run(ctx): Promise<Verdict> {
        const field = RestaurantSchema.fields.find((f) => f.number === 3);
        if (isBool(field)) return { ok: true };
        const closed = field && enumValue(field, "_CLOSED");
        if (!field || !closed) return { ok: false, missing: `Restaurant's field 3 is no longer a bool: ${RIGHT_WAY}` };
        const today = create(RestaurantSchema, { restaurantId: "r-2" });
        reflect(RestaurantSchema, today).set(field, closed.number);
        const old = oldClientReadsOpen(ctx, today);
        return {
          ok: false,
          missing: `field 3 changed from bool to ${closed.parent.typeName} in place. Today's Kitchen writes a closed restaurant as ${field.name}: ${closed.name} (${closed.number}); a client built from ${ctx.latestReleaseVersion} reads it as open: ${String(old)}, and would send orders to a closed kitchen. ${RIGHT_WAY}`,
        };
      },
    },
    {
      name: "Restaurant has `status`, an enum with an OPEN and a CLOSED value",
      async run() {
        const status = fieldNamed(RestaurantSchema, "status");
        if (status && enumValue(status, "_OPEN") && enumValue(status, "_CLOSED")) return { ok: true };
        return {
          ok: false,
          missing:
            "add `enum RestaurantStatus` (RESTAURANT_STATUS_UNSPECIFIED = 0, RESTAURANT_STATUS_OPEN = 1, RESTAURANT_STATUS_CLOSED = 2) and `RestaurantStatus status = 4;` to Restaurant",
        };
      },
    },
    {
      name: "`open` is marked deprecated",
      async run() {
        const open = fieldNamed(RestaurantSchema, "open");
        return open?.deprecated
          ? { ok: true }
          : { ok: false, missing: "write `bool open = 3 [deprecated = true];` and say in its comment to read status" };
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
    {
      name: "Kitchen's store answers r-1 OPEN and r-2 CLOSED, and an old client still reads open true / false",
      async run(ctx): Promise<Verdict> {
        const status = fieldNamed(RestaurantSchema, "status");
        if (status?.fieldKind !== "enum") return { ok: false, missing: "Restaurant has no enum `status` yet" };
        const store = openKitchenStore(join(ctx.scratch, "kitchen.db"));
        try {
          const got = ["r-1", "r-2"].map((id) => {
            const restaurant = store.findRestaurant(id) as Restaurant;
            const value = reflect(RestaurantSchema, restaurant).get(status) as number;
            const name = status.enum.values.find((v) => v.number === value)?.name ?? String(value);
            return `${id} ${name} open: ${String(oldClientReadsOpen(ctx, restaurant))}`;
          });
          const want = [
            `r-1 ${enumValue(status, "_OPEN")?.name} open: true`,
            `r-2 ${enumValue(status, "_CLOSED")?.name} open: false`,
          ];
          if (got.join() === want.join()) return { ok: true, detail: got.join("\n") };
          return {
            ok: false,
            missing: `Kitchen answers ${got.join("; ")}, expected ${want.join("; ")}: in services/kitchen/src/store.ts findRestaurant, set status from the open column and keep setting open`,
          };
        } finally {
          store.close();
        }
      },
    },
  ],
};

export default exercise;
