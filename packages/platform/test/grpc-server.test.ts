import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { GetMenuRequestSchema, KitchenService } from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { type ServiceError, status as Status } from "@grpc/grpc-js";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../src/errors.js";
import { createGrpcClient, type GrpcTransport, implement, REQUEST_ID_HEADER } from "../src/grpc/index.js";
import { waitFor } from "../src/testing/wait.js";
import { fakeKitchen, RESTAURANT, rejection, useGrpc } from "./grpc-fixtures.js";

const MiB = 1024 * 1024;

/** A logger whose JSON lines the test can read. */
function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

/** Sends `bytes` as the request body of GetMenu, bypassing every serializer. */
function sendRawGetMenu(transport: GrpcTransport, bytes: Buffer): Promise<ServiceError | undefined> {
  return new Promise((resolve) => {
    const identity = (buffer: Buffer) => buffer;
    transport.channel.makeUnaryRequest(
      "/ftgo.kitchen.v1.KitchenService/GetMenu",
      identity,
      identity,
      bytes,
      { deadline: Date.now() + 5000 },
      (error) => resolve(error ?? undefined),
    );
  });
}

describe("serveGrpc", () => {
  const grpc = useGrpc();

  it("serves a Connect-style ServiceImpl to a typed client", async () => {
    const server = await grpc.serve([implement(KitchenService, fakeKitchen())]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));

    const menu = await kitchen.getMenu({ restaurantId: "r-1" });

    expect(menu.restaurant?.name).toBe(RESTAURANT.name);
    expect(menu.menuItems.map((item) => [item.menuItemId, item.price?.minorUnits])).toEqual([["m-1", 1299n]]);
  });

  it("binds an ephemeral port and reports it in its address", async () => {
    const server = await grpc.serve([implement(KitchenService, fakeKitchen())]);

    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
  });

  it("maps a NotFoundError to NOT_FOUND with its message", async () => {
    const server = await grpc.serve([implement(KitchenService, fakeKitchen())]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));

    const error = await rejection(kitchen.getMenu({ restaurantId: "r-404" }));

    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ code: Code.NotFound, rawMessage: "restaurant r-404 does not exist" });
  });

  it("passes a ConnectError through with its code and message", async () => {
    const getMenu = () => {
      throw new ConnectError("kitchen closed for cleaning", Code.FailedPrecondition);
    };
    const server = await grpc.serve([implement(KitchenService, fakeKitchen({ getMenu }))]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));

    const error = await rejection(kitchen.getMenu({ restaurantId: "r-1" }));

    expect(error).toMatchObject({ code: Code.FailedPrecondition, rawMessage: "kitchen closed for cleaning" });
  });

  it("hides an unexpected throw behind INTERNAL 'internal error' and logs the original", async () => {
    const { log, lines } = captureLogs();
    const getMenu = () => {
      throw new TypeError("cannot read properties of undefined (reading 'price')");
    };
    const server = await grpc.serve([implement(KitchenService, fakeKitchen({ getMenu }))], { log });
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));

    const error = await rejection(
      kitchen.getMenu({ restaurantId: "r-1" }, { headers: { [REQUEST_ID_HEADER]: "req-7" } }),
    );

    expect(error).toMatchObject({ code: Code.Internal, rawMessage: "internal error" });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 50,
        method: "/ftgo.kitchen.v1.KitchenService/GetMenu",
        requestId: "req-7",
        code: "Internal",
        err: expect.objectContaining({ message: "cannot read properties of undefined (reading 'price')" }),
      }),
    );
  });

  it("logs a caller's mistake at info, without a stack", async () => {
    const { log, lines } = captureLogs();
    const getMenu = () => {
      throw new InvalidArgumentError("restaurant_id is required");
    };
    const server = await grpc.serve([implement(KitchenService, fakeKitchen({ getMenu }))], { log });
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));

    await rejection(kitchen.getMenu({ restaurantId: "r-1" }));

    const failure = lines.find((line) => line.msg === "grpc call failed");
    expect(failure).toMatchObject({ level: 30, code: "InvalidArgument", message: "restaurant_id is required" });
    expect(failure).not.toHaveProperty("err");
  });

  it("echoes the caller's request id, and generates one when there is none", async () => {
    let seenByHandler: string | null = null;
    const getMenu = fakeKitchen().getMenu;
    const server = await grpc.serve([
      implement(
        KitchenService,
        fakeKitchen({
          getMenu: (request, ctx) => {
            seenByHandler = ctx.requestHeader.get(REQUEST_ID_HEADER);
            return getMenu(request, ctx);
          },
        }),
      ),
    ]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));
    const echoed: (string | null)[] = [];
    const onHeader = (headers: Headers) => echoed.push(headers.get(REQUEST_ID_HEADER));

    await kitchen.getMenu({ restaurantId: "r-1" }, { headers: { [REQUEST_ID_HEADER]: "req-1" }, onHeader });
    expect([seenByHandler, echoed[0]]).toEqual(["req-1", "req-1"]);

    await kitchen.getMenu({ restaurantId: "r-1" }, { onHeader });
    expect(seenByHandler).toMatch(/^[0-9a-f-]{36}$/);
    expect(echoed[1]).toBe(seenByHandler);
  });

  it("sends the handler's response headers and trailers", async () => {
    const server = await grpc.serve([
      implement(
        KitchenService,
        fakeKitchen({
          getRestaurant: (_request, ctx) => {
            ctx.responseHeader.set("x-kitchen-shard", "3");
            ctx.responseTrailer.set("x-menu-version", "42");
            return { restaurant: RESTAURANT };
          },
        }),
      ),
    ]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));
    let header: Headers | undefined;
    let trailer: Headers | undefined;

    await kitchen.getRestaurant(
      { restaurantId: "r-1" },
      { onHeader: (headers) => (header = headers), onTrailer: (trailers) => (trailer = trailers) },
    );

    expect(header?.get("x-kitchen-shard")).toBe("3");
    expect(trailer?.get("x-menu-version")).toBe("42");
  });

  it("lets an in-flight call finish when close() starts", async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    const getMenu = async () => {
      started = true;
      await released;
      return { restaurant: RESTAURANT };
    };
    const server = await grpc.serve([implement(KitchenService, fakeKitchen({ getMenu }))]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));

    const call = kitchen.getMenu({ restaurantId: "r-1" });
    await waitFor(() => started, { message: "handler started" });
    const closed = server.close(5000);
    release();

    await expect(call).resolves.toMatchObject({ restaurant: RESTAURANT });
    await closed;
  });

  it("answers INVALID_ARGUMENT to a request that does not decode, and keeps serving", async () => {
    const server = await grpc.serve([implement(KitchenService, fakeKitchen())]);
    const transport = grpc.connect(server);
    // Field 1 (restaurant_id) announces 16 bytes; only 2 follow.
    const garbage = Buffer.from([0x0a, 0x10, 0x61, 0x62]);

    const error = await sendRawGetMenu(transport, garbage);

    expect(error?.code).toBe(Status.INVALID_ARGUMENT);
    expect(error?.details).toBe("malformed ftgo.kitchen.v1.GetMenuRequest: premature EOF");
    const kitchen = createGrpcClient(KitchenService, transport);
    await expect(kitchen.getMenu({ restaurantId: "r-1" })).resolves.toMatchObject({ restaurant: RESTAURANT });
  });

  it("refuses a request that breaks a limit its contract declares, naming field and rule, before the handler runs", async () => {
    let handled = 0;
    const getMenu = () => {
      handled++;
      return {};
    };
    const server = await grpc.serve([implement(KitchenService, fakeKitchen({ getMenu }))]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));

    const tooLong = await rejection(kitchen.getMenu({ restaurantId: "r".repeat(65) }));
    const badPattern = await rejection(kitchen.getMenu({ restaurantId: "r 1" }));

    expect(tooLong).toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: "restaurant_id: must be at most 64 characters [string.max_len]",
    });
    expect(badPattern).toMatchObject({ code: Code.InvalidArgument });
    expect((badPattern as ConnectError).rawMessage).toBe(
      "restaurant_id: does not match regex pattern `^[A-Za-z0-9][A-Za-z0-9_.:-]*$` [string.pattern]",
    );
    expect(handled).toBe(0);
  });

  it("refuses a server-streaming request that breaks a declared limit with INVALID_ARGUMENT", async () => {
    const server = await grpc.serve([implement(KitchenService, fakeKitchen())]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));

    const failure = await kitchen
      .watchTickets({ restaurantId: "" })
      [Symbol.asyncIterator]()
      .next()
      .catch((err: unknown) => err);

    expect(failure).toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: "restaurant_id: value is required [required]",
    });
  });

  it("answers RESOURCE_EXHAUSTED to a request over maxReceiveMessageBytes, and keeps serving", async () => {
    const server = await grpc.serve([implement(KitchenService, fakeKitchen())], { maxReceiveMessageBytes: 4 * MiB });
    // The client may send more than the server accepts, so that the server's limit is what is tested.
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server, { maxSendMessageBytes: 16 * MiB }));

    const error = await rejection(kitchen.getMenu({ restaurantId: "x".repeat(5 * MiB) }));

    expect(error).toMatchObject({ code: Code.ResourceExhausted });
    await expect(kitchen.getMenu({ restaurantId: "r-1" })).resolves.toMatchObject({ restaurant: RESTAURANT });
  });

  it("delivers a failure whose message is over 100 kB, cut to 2048 characters, and keeps the connection", async () => {
    // Found by test/fuzz-grpc.test.ts: a request breaking a thousand limits made an 84 kB message, the
    // trailers carrying it were over the HTTP/2 limit, and the caller waited for its deadline instead.
    const huge = "line_items[0].quantity: must be at least 1; ".repeat(3000);
    const getMenu = () => {
      throw new InvalidArgumentError(huge);
    };
    const server = await grpc.serve([implement(KitchenService, fakeKitchen({ getMenu }))]);
    const kitchen = createGrpcClient(KitchenService, grpc.connect(server));

    const error = await rejection(kitchen.getMenu({ restaurantId: "r-1" }, { timeoutMs: 5000 }));

    expect(error).toMatchObject({ code: Code.InvalidArgument });
    const message = (error as ConnectError).rawMessage;
    expect(message).toHaveLength(2048);
    expect(huge.startsWith(message.slice(0, 2000))).toBe(true);
    expect(message.endsWith(` … (${huge.length} characters, cut)`)).toBe(true);
    await expect(rejection(kitchen.getMenu({ restaurantId: "r-1" }))).resolves.toMatchObject({
      code: Code.InvalidArgument,
    });
  });

  it("accepts well-formed bytes on the same raw path", async () => {
    // Proves the test above fails because of the bytes, not because of the raw client.
    const server = await grpc.serve([implement(KitchenService, fakeKitchen())]);
    const bytes = Buffer.from(toBinary(GetMenuRequestSchema, create(GetMenuRequestSchema, { restaurantId: "r-1" })));

    await expect(sendRawGetMenu(grpc.connect(server), bytes)).resolves.toBeUndefined();
  });
});
