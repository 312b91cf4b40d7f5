import { create } from "@bufbuild/protobuf";
import { type Money, MoneySchema } from "@ftgo/gen/ftgo/common/v1/money_pb.js";

/** The one currency of the seed data. */
export const DEFAULT_CURRENCY = "USD";

/** Money from integer minor units (cents): `money(1500)` is USD 15.00. Never a float. */
export function money(minorUnits: bigint | number, currencyCode = DEFAULT_CURRENCY): Money {
  return create(MoneySchema, { currencyCode, minorUnits: BigInt(minorUnits) });
}
