// The secure mode's broker permissions as a table (broker-access.ts) and as nats-server's configuration
// (broker-config.ts): who is a user at all, what each may publish, and a file nats-server itself accepts.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerUser, brokerUsers } from "../src/messaging/broker-access.js";
import { BrokerPkiError, secureBrokerConfig, secureClusterNodeConfig } from "../src/messaging/broker-config.js";
import { findNatsServer } from "../src/testing/nats-server.js";

const users = brokerUsers();
const userOf = (identity: string): BrokerUser => {
  const user = users.find((candidate) => candidate.identity === identity);
  if (!user) throw new Error(`${identity} has no broker user`);
  return user;
};

describe("brokerUsers", () => {
  it("has a user for every mesh identity but the learner's and the broker's own, named by the e-mail SAN", () => {
    expect(users.map(({ user }) => user).sort()).toEqual(
      [
        "accounting",
        "admin",
        "consumer",
        "courier-1",
        "courier-2",
        "courier-3",
        "delivery",
        "gateway",
        "kitchen",
        "loyalty",
        "order",
      ].map((name) => `${name}@ftgo.mesh`),
    );
  });

  it("lets only Accounting publish Accounting's events, and only Order send Accounting commands", () => {
    const mayPublish = (pattern: string) =>
      users.filter(({ permissions }) => permissions.publish.includes(pattern)).map(({ identity }) => identity);
    expect(mayPublish("ftgo.accounting.event.>")).toEqual(["accounting"]);
    expect(mayPublish("ftgo.accounting.command.>")).toEqual(["order"]);
    expect(mayPublish("ftgo.delivery.command.>")).toEqual(["kitchen"]);
    expect(mayPublish("$KV.ftgo_registry.kitchen.*")).toEqual(["kitchen"]);
    expect(mayPublish("ftgo.delivery.request.>")).toEqual(["delivery"]);
  });

  it("lets a service reply to Order only with its own domain's message types", () => {
    const replies = userOf("kitchen").permissions.publish.filter((subject) => subject.startsWith("ftgo.order.reply."));
    expect(replies).toContain("ftgo.order.reply.ticket_approved.*");
    expect(replies.every((subject) => /^ftgo\.order\.reply\.ticket_\w+\.\*$/.test(subject))).toBe(true);
  });

  it("lets a service pull only its own durables, one per partition", () => {
    const pulls = userOf("loyalty").permissions.publish.filter((subject) => subject.includes("MSG.NEXT"));
    expect(pulls).toEqual([0, 1, 2, 3].map((k) => `$JS.API.CONSUMER.MSG.NEXT.FTGO_ORDER_EVENTS.loyalty-p${k}`));
    expect(brokerUsers({ partitions: 2 }).find((user) => user.identity === "kitchen")?.permissions.publish).toContain(
      "$JS.API.CONSUMER.MSG.NEXT.FTGO_KITCHEN_COMMANDS.kitchen-p1",
    );
  });

  it("lets each identity read its own reply inboxes only: none but the operator reaches the shared _INBOX.", () => {
    const inboxes = (identity: string) =>
      userOf(identity).permissions.subscribe.filter((subject) => subject.startsWith("_INBOX"));
    for (const { identity, permissions } of users.filter(({ identity }) => identity !== "admin")) {
      expect(permissions.subscribe, identity).not.toContain("_INBOX.>");
    }
    expect(inboxes("delivery")).toEqual(["_INBOX_delivery.>"]);
    expect(inboxes("loyalty")).toEqual(["_INBOX_loyalty.>"]);
  });

  it("lets a courier publish nothing but answers to the quote requests it alone may hear", () => {
    expect(userOf("courier-2").permissions).toEqual({
      publish: [],
      subscribe: ["ftgo.delivery.request.>"],
      allowResponses: true,
    });
  });
});

describe("secureBrokerConfig", () => {
  const pkiDir = mkdtempSync(join(tmpdir(), "ftgo-broker-config-"));
  beforeAll(() => {
    execFileSync("bash", ["scripts/pki.sh", "init"], {
      cwd: join(import.meta.dirname, "../../.."),
      env: { ...process.env, FTGO_PKI_DIR: pkiDir },
      stdio: "ignore",
    });
  });
  afterAll(() => rmSync(pkiDir, { recursive: true, force: true }));

  it("is a configuration nats-server accepts, with TLS mapping certificates to users", async () => {
    const text = secureBrokerConfig({ pkiDir });
    const config = JSON.parse(text);
    expect(config.tls).toMatchObject({ verify_and_map: true, cert_file: join(pkiDir, "nats.crt") });
    expect(config.authorization.users).toHaveLength(users.length);
    const file = join(pkiDir, "nats-server.conf");
    writeFileSync(file, text);
    const checked = execFileSync(await findNatsServer(), ["-c", file, "-t"], { encoding: "utf8", stdio: "pipe" });
    expect(checked).toBe("");
  });

  it("gives a cluster node the single server's users, its name, store and TLS routes to the other nodes", async () => {
    const nodes = [
      { name: "nats-1", host: "nats" },
      { name: "nats-2", host: "nats-2", routePort: 6223 },
      { name: "nats-3", host: "::1", routePort: 6224 },
    ];
    const text = secureClusterNodeConfig({ pkiDir, nodes, node: "nats-2", storeDir: "/data" });
    const config = JSON.parse(text);
    const single = JSON.parse(secureBrokerConfig({ pkiDir }));
    expect(config).toMatchObject({ server_name: "nats-2", jetstream: { store_dir: "/data" }, ...single });
    expect(config.cluster).toEqual({
      name: "ftgo",
      listen: "0.0.0.0:6223",
      advertise: "nats-2:6223",
      routes: ["nats-route://nats:6222", "nats-route://[::1]:6224"],
      tls: { ...single.tls, verify_and_map: true },
      authorization: { user: "nats@ftgo.mesh" }, // the broker's certificate alone opens a route
    });
    const file = join(pkiDir, "nats-2.json");
    writeFileSync(file, text);
    const checked = execFileSync(await findNatsServer(), ["-c", file, "-t"], { encoding: "utf8", stdio: "pipe" });
    expect(checked).toBe("");
    expect(() => secureClusterNodeConfig({ pkiDir, nodes, node: "nats-4", storeDir: "/data" })).toThrow(/nats-4/);
  });

  it("names the missing files when the PKI directory lacks the broker's", () => {
    const empty = mkdtempSync(join(tmpdir(), "ftgo-broker-config-empty-"));
    try {
      expect(() => secureBrokerConfig({ pkiDir: empty })).toThrow(BrokerPkiError);
      expect(() => secureBrokerConfig({ pkiDir: empty })).toThrow(/nats\.crt.*scripts\/pki\.sh init/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
