import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { FailedPreconditionError, NotFoundError } from "../src/errors.js";
import { toConnectError } from "../src/grpc/index.js";

describe("toConnectError", () => {
  it("gives a DomainError its own code and message", () => {
    const error = toConnectError(new FailedPreconditionError("ticket t-1 is already accepted"));

    expect(error).toMatchObject({ code: Code.FailedPrecondition, rawMessage: "ticket t-1 is already accepted" });
  });

  it("keeps the DomainError as the cause", () => {
    const original = new NotFoundError("order o-1 does not exist");

    expect(toConnectError(original).cause).toBe(original);
  });

  it("passes a ConnectError through unchanged", () => {
    const original = new ConnectError("slow down", Code.ResourceExhausted);

    expect(toConnectError(original)).toBe(original);
  });

  it("turns anything else into INTERNAL 'internal error', keeping the original as the cause", () => {
    const original = new Error("SQLITE_BUSY: database is locked");

    const error = toConnectError(original);

    expect(error).toMatchObject({ code: Code.Internal, rawMessage: "internal error", cause: original });
  });

  it("treats a thrown non-Error as unexpected too", () => {
    expect(toConnectError("oops")).toMatchObject({ code: Code.Internal, rawMessage: "internal error" });
  });
});
