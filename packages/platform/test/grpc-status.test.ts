import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { FailedPreconditionError, NotFoundError } from "../src/errors.js";
import { toConnectError } from "../src/grpc/index.js";
import { boundedMessage, MAX_STATUS_MESSAGE_LENGTH } from "../src/grpc/status.js";

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

describe("boundedMessage", () => {
  it("leaves a message of up to MAX_STATUS_MESSAGE_LENGTH characters as it is", () => {
    const message = "x".repeat(MAX_STATUS_MESSAGE_LENGTH);

    expect(boundedMessage(message)).toBe(message);
  });

  it("cuts a longer one to the limit, saying how long it was", () => {
    const bounded = boundedMessage("x".repeat(10_000));

    expect(bounded).toHaveLength(MAX_STATUS_MESSAGE_LENGTH);
    expect(bounded.endsWith("x … (10000 characters, cut)")).toBe(true);
  });

  it("never leaves half a surrogate pair where it cuts", () => {
    const bounded = boundedMessage("🍕".repeat(5_000));

    expect(bounded).toMatch(/^(🍕)+ … \(10000 characters, cut\)$/u);
  });
});
