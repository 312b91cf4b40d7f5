// The dashboard (/dashboard, services/gateway/dashboard/) in a real browser: headless Chromium driven by
// playwright-core, against a real `make up` (scripts/up.ts). A reader's session, step by step: refused without an
// admin token, signed in with one, orders placed from the page watched to their end, a fault set from the fault
// panel opening Order's breaker, a participant killed and restarted, a burst of load, 500 orders in the list.
// Screenshots of each step are left in .tmp/artifacts/dashboard/.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { artifactPath, launchChromium } from "@ftgo/harness/browser.js";
import { runShell } from "@ftgo/harness/docs-shell.js";
import { call, signIn } from "@ftgo/harness/gateway-calls.js";
import { alive, launchMakeUp, type MakeUpRun } from "@ftgo/harness/make-up-run.js";
import { startService } from "@ftgo/harness/service-instance.js";
import { GATEWAY, SERVICE_NAMES } from "@ftgo/platform";
import { waitFor } from "@ftgo/platform/testing";
import { jetstream } from "@nats-io/jetstream";
import { connect, headers } from "@nats-io/transport-node";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandsOf, shBlock } from "./doc-blocks.js";
import { claimsOf } from "./doc-claims.js";

const SUITE = "dashboard";
const PAGE_HEADERS = { "x-requested-with": "ftgo-dashboard" };

let up: MakeUpRun;
let gateway: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let adminToken: string;
/** What the page logged as an error, or a Content-Security-Policy violation: none is allowed. */
const pageErrors: string[] = [];

async function shot(name: string, on: Page = page): Promise<void> {
  await on.screenshot({ path: artifactPath(SUITE, `${name}.png`), fullPage: true });
}

/** Places an order of `scenario` with the page's own controls; its id, once the page shows its timeline. */
async function placeFromPage(scenario: string, on: Page = page): Promise<string> {
  const timeline = on.locator('[data-region="timeline"]');
  const alert = on.locator("#alert");
  // Read before the click: the page may show the new order before the next line runs.
  const before = await timeline.getAttribute("data-order-id");
  await on.getByLabel("Scenario").selectOption(scenario);
  await on.getByRole("button", { name: "Place order" }).click();
  await waitFor(
    async () => {
      if (await alert.isVisible())
        throw new Error(`the page says: ${await alert.locator(".alert-text").textContent()}`);
      const shown = await timeline.getAttribute("data-order-id");
      return shown && shown !== before;
    },
    { timeoutMs: 20_000, message: `the page to show the ${scenario} order's timeline` },
  );
  return (await timeline.getAttribute("data-order-id")) as string;
}

async function finalStateOf(orderId: string, on: Page = page, timeoutMs = 60_000): Promise<string> {
  const final = on.locator(`[data-region="timeline"][data-order-id="${orderId}"] [data-final-state]`);
  return waitFor(
    async () => {
      const state = (await final.count()) > 0 ? await final.getAttribute("data-final-state") : null;
      return state && state !== "APPROVAL_PENDING" ? state : undefined;
    },
    { timeoutMs, intervalMs: 200, message: `order ${orderId}'s saga to end on the page` },
  );
}

function breaker(caller: string, target: string, state: string) {
  return page.locator(`[data-breaker][data-caller="${caller}"][data-target="${target}"][data-state="${state}"]`);
}

describe("the dashboard, in Chromium, on make up", () => {
  beforeAll(async () => {
    up = await launchMakeUp({ readyTimeoutMs: 180_000 });
    gateway = `http://127.0.0.1:${up.gatewayPort}`;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    page.on("pageerror", (error) => pageErrors.push(error.message));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    up?.dispose();
  });

  it("make up prints the dashboard's URL and how to get an admin token", () => {
    expect(up.output()).toMatch(new RegExp(`dashboard +${gateway}/dashboard {2}\\(admins only`));
    expect(up.output()).toContain(
      `an admin token: curl -s -X POST ${gateway}/api/v1/auth/token -H 'content-type: application/json' -d '{"role":"admin"}'`,
    );
  });

  it("docs/dashboard.md's command prints an admin token", async () => {
    const [claim] = claimsOf("test/dashboard.test.ts");
    const [command] = commandsOf(shBlock(claim?.page ?? "", claim?.marker ?? ""));
    const line = (command?.line ?? "").replaceAll(`127.0.0.1:${GATEWAY.port}`, `127.0.0.1:${up.gatewayPort}`);
    const result = await runShell(line, { timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    adminToken = (JSON.parse(result.stdout) as { accessToken: string }).accessToken;
    expect(adminToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it("refuses the page and its data to anyone but an admin, with a strict Content-Security-Policy", async () => {
    const anonymous = await fetch(`${gateway}/dashboard`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("content-type")).toContain("text/html");
    expect(anonymous.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(anonymous.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await anonymous.text()).toContain("this route needs a bearer token");

    const consumer = await signIn(gateway, { consumerId: "c-1001" });
    const asConsumer = await fetch(`${gateway}/dashboard`, { headers: { authorization: `Bearer ${consumer}` } });
    expect(asConsumer.status).toBe(403);
    expect(await asConsumer.text()).toContain("this route is for administrators");
    expect((await call(`${gateway}/dashboard/api/stream`, consumer)).status).toBe(403);
    expect((await call(`${gateway}/dashboard/api/stream`, undefined)).body).toMatchObject({
      error: { code: "UNAUTHENTICATED" },
    });
    // An action must come from the page: an admin's token alone, without the page's header, is not enough.
    const forged = await call(`${gateway}/dashboard/api/orders`, adminToken, {
      method: "POST",
      body: { scenario: "happy" },
    });
    expect(forged.status).toBe(403);
    expect(forged.body.error.message).toContain("x-requested-with");
    const wrong = await call(`${gateway}/dashboard/api/orders`, adminToken, {
      method: "POST",
      body: { scenario: "free-lunch" },
      headers: PAGE_HEADERS,
    });
    expect(wrong).toMatchObject({ status: 400, body: { error: { code: "INVALID_ARGUMENT" } } });
    expect(wrong.body.error.message).toContain("scenario must be one of happy, declined, suspended");
  });

  it("signs in with a pasted admin token and draws every service and instance, live", async () => {
    await page.goto(`${gateway}/dashboard`);
    await page.getByLabel("Admin token").fill(adminToken);
    await page.getByRole("button", { name: "Sign in with this token" }).click();
    await page.locator('[data-connection="live"]').waitFor({ timeout: 30_000 });
    // The sign-in page was a 401 on purpose; from here on, the page must log no error at all.
    pageErrors.length = 0;
    for (const name of [...SERVICE_NAMES, "loyalty"]) {
      await page
        .locator(`[data-instance-id][data-service="${name}"][data-health="SERVING"]`)
        .first()
        .waitFor({ timeout: 30_000 });
    }
    await shot("01-signed-in");
    expect(pageErrors).toEqual([]);
  });

  it("places a happy order and a declined one from the page: APPROVED, and REJECTED with its compensations", async () => {
    const happy = await placeFromPage("happy");
    expect(await finalStateOf(happy)).toBe("APPROVED");
    const timeline = page.locator('[data-region="timeline"]');
    await waitFor(
      async () => (await timeline.locator('[data-step][data-type="ftgo.kitchen.v1.TicketApproved"]').count()) > 0,
      {
        timeoutMs: 20_000,
        message: "the approved order's timeline to show Kitchen's approval",
      },
    );
    const happyTypes = await timeline
      .locator("[data-step]")
      .evaluateAll((steps) => steps.map((s) => s.getAttribute("data-type")));
    expect(happyTypes[0]).toBe("ftgo.order.v1.OrderCreated");
    expect(happyTypes).toEqual(
      expect.arrayContaining(["ftgo.consumer.v1.ConsumerVerified", "ftgo.order.v1.OrderApproved"]),
    );
    expect(await timeline.locator('[data-step][data-compensation="true"]').count()).toBe(0);
    await shot("02-approved");

    const declined = await placeFromPage("declined");
    expect(await finalStateOf(declined)).toBe("REJECTED");
    await expect
      .poll(() => timeline.locator("[data-reason]").textContent(), { timeout: 10_000 })
      .toContain("card ending 0002 was declined");
    await waitFor(
      async () => (await timeline.locator('[data-step][data-type="ftgo.kitchen.v1.TicketRejected"]').count()) > 0,
      { timeoutMs: 20_000, message: "the declined order's timeline to show the ticket's rejection" },
    );
    const compensations = await timeline
      .locator('[data-step][data-compensation="true"]')
      .evaluateAll((steps) => steps.map((s) => s.getAttribute("data-type")));
    expect(compensations).toEqual(
      expect.arrayContaining(["ftgo.kitchen.v1.TicketRejected", "ftgo.order.v1.OrderRejected"]),
    );
    // The failure that started them is a step of its own, before them, and not a compensation.
    const failure = timeline.locator('[data-step][data-type="ftgo.accounting.v1.CreditCardAuthorizationFailed"]');
    expect(await failure.getAttribute("data-compensation")).not.toBe("true");
    await shot("03-rejected");
  });

  it("a fault on Kitchen's GetMenu from the fault panel opens Order's breaker; orders are priced from the last known menu; clearing closes it", async () => {
    await page.getByLabel("Service").selectOption("kitchen");
    await page.getByLabel("Method").selectOption("/ftgo.kitchen.v1.KitchenService/GetMenu");
    await page.getByLabel("Status code").selectOption("14");
    await page.getByRole("button", { name: "Set fault" }).click();
    const fault = page.locator(
      '[data-region="faults"] [data-fault][data-service="kitchen"][data-method="/ftgo.kitchen.v1.KitchenService/GetMenu"]',
    );
    await fault.first().waitFor({ timeout: 10_000 });
    await expect.poll(() => fault.first().textContent()).toMatch(/breaker|fallback|last known menu/i);

    // Each order's GetMenu fails (every attempt): after enough failures in a row the breaker opens.
    const placed: string[] = [];
    await waitFor(
      async () => {
        placed.push(await placeFromPage("happy"));
        return (await breaker("order", "kitchen", "open").count()) > 0;
      },
      { timeoutMs: 90_000, intervalMs: 200, message: "Order's breaker for Kitchen to open on the page" },
    );
    const lastOrder = page.locator(`[data-region="orders"] [data-order-id="${placed.at(-1)}"]`);
    await expect
      .poll(() => lastOrder.getAttribute("data-priced-from-last-known-menu"), { timeout: 10_000 })
      .toBe("true");
    await shot("04-breaker-open");

    await page.getByLabel("Service").selectOption("kitchen");
    await page.getByRole("button", { name: "Clear faults" }).click();
    await waitFor(async () => (await fault.count()) === 0, {
      timeoutMs: 10_000,
      message: "the fault to leave the panel",
    });
    // The breaker lets a probe through once its open time has passed; a healthy GetMenu closes it.
    await waitFor(
      async () => {
        await placeFromPage("happy");
        return (
          (await breaker("order", "kitchen", "closed").count()) > 0 &&
          (await breaker("order", "kitchen", "open").count()) === 0
        );
      },
      { timeoutMs: 90_000, intervalMs: 1_000, message: "Order's breaker for Kitchen to close on the page" },
    );
    await shot("05-breaker-closed");
  });

  it("a SIGKILLed participant leaves the topology within the registry TTL and comes back after a restart", async () => {
    const accounting = page.locator('[data-instance-id][data-service="accounting"]');
    const before = (await accounting.first().getAttribute("data-instance-id")) as string;
    const status = await runShell("npm run --silent mesh -- status", {
      timeoutMs: 60_000,
      env: { DATA_DIR: up.dataDir },
    });
    const pid = Number(/^accounting\s+\S+\s+(\d+)\s/m.exec(status.stdout)?.[1]);
    expect(pid, status.stdout).toBeGreaterThan(0);
    process.kill(pid, "SIGKILL");
    // REGISTRY_TTL_MS is 10 s: the entry expires, the page redraws without it.
    await waitFor(async () => (await page.locator(`[data-instance-id="${before}"]`).count()) === 0, {
      timeoutMs: 30_000,
      intervalMs: 250,
      message: `accounting's instance ${before} to leave the topology`,
    });
    await shot("06-accounting-gone");
    const started = await runShell("npm run --silent mesh -- start accounting", {
      timeoutMs: 60_000,
      env: { DATA_DIR: up.dataDir },
    });
    expect(started.code, started.stderr).toBe(0);
    await page
      .locator('[data-instance-id][data-service="accounting"][data-health="SERVING"]')
      .first()
      .waitFor({ timeout: 30_000 });
    expect(await page.locator(`[data-instance-id="${before}"]`).count()).toBe(0);
  });

  it("draws a second Kitchen instance as soon as it registers, and drops it when it stops", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ftgo-kitchen-2-"));
    const kitchens = page.locator('[data-instance-id][data-service="kitchen"][data-health="SERVING"]');
    try {
      const second = await startService({ name: "kitchen", instance: 2, dataDir, natsUrl: up.natsUrl });
      try {
        await waitFor(async () => (await kitchens.count()) === 2, {
          timeoutMs: 30_000,
          intervalMs: 250,
          message: "two Kitchen instances on the topology",
        });
        await shot("07-two-kitchens");
      } finally {
        await second.stop();
      }
      await waitFor(async () => (await kitchens.count()) === 1, {
        timeoutMs: 30_000,
        intervalMs: 250,
        message: "the second Kitchen to leave the topology",
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("lists a poison message among the dead letters, and replays it from the page", async () => {
    // A body that no protobuf parser takes, under OrderCreated's headers: every receiver dead-letters it at once.
    const nc = await connect({ servers: up.natsUrl });
    const messageId = randomUUID();
    try {
      const poison = headers();
      poison.set("Ftgo-Message-Id", messageId);
      poison.set("Ftgo-Type", "ftgo.order.v1.OrderCreated");
      poison.set("Ftgo-Correlation-Id", `poison-${messageId}`);
      poison.set("Content-Type", "application/x-protobuf");
      const garbage = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x7f]);
      await jetstream(nc).publish("ftgo.order.event.order_created.0", garbage, { headers: poison, msgID: messageId });
    } finally {
      await nc.close();
    }
    const kitchen = page.locator('[data-region="messaging"] [data-dead-letter-seq][data-service="kitchen"]');
    await kitchen.first().waitFor({ timeout: 30_000 });
    expect(await kitchen.first().textContent()).toContain(`order poison-${messageId}`);
    const seq = (await kitchen.first().getAttribute("data-dead-letter-seq")) as string;
    await kitchen.first().getByRole("button", { name: "Replay" }).click();
    // Sent back to its subject and deleted; still poison, so its receivers dead-letter it again, under a new seq.
    await expect
      .poll(() => page.locator("#status").textContent(), { timeout: 10_000 })
      .toContain(`Replayed dead letter ${seq} of kitchen to ftgo.order.event.order_created.0`);
    await waitFor(async () => (await page.locator(`[data-dead-letter-seq="${seq}"]`).count()) === 0, {
      timeoutMs: 15_000,
      message: `dead letter ${seq} to leave the page once replayed`,
    });
    await waitFor(
      async () => {
        const seqs = await kitchen.evaluateAll((items) =>
          items.map((item) => Number(item.getAttribute("data-dead-letter-seq"))),
        );
        return seqs.some((other) => other > Number(seq));
      },
      { timeoutMs: 30_000, message: "the replayed poison dead-lettered again, under a new seq" },
    );
    await shot("08-dead-letters");
  });

  it("runs a bounded burst of load from the page that stops by itself", async () => {
    const listed = () => page.locator('[data-region="orders"] [data-order-id]').count();
    const before = await listed();
    await page.getByLabel("Orders in burst").fill("20");
    await page.getByRole("button", { name: "Run load" }).click();
    await waitFor(async () => (await listed()) === before + 20, {
      timeoutMs: 60_000,
      intervalMs: 250,
      message: "the burst's 20 orders in the list",
    });
    // It ends by itself, and says so: the button is back.
    await expect.poll(() => page.getByText(/^Last burst: 20 of 20 orders placed/).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByRole("button", { name: "Run load" }).isEnabled()).toBe(true);
    const burst = await call(`${gateway}/dashboard/api/load`, adminToken, {
      method: "POST",
      body: { orders: 101 },
      headers: PAGE_HEADERS,
    });
    expect(burst.status).toBe(400);
    expect(burst.body.error.message).toBe("orders must be a whole number from 1 to 100");
  });

  it("keeps 500 orders in its history and renders them (the time is left in the artefacts)", {
    timeout: 300_000,
  }, async () => {
    // Bursts of 100 (the most one may place) until the gateway holds more than 500 orders.
    for (let burst = 0; burst < 5; burst++) {
      await waitFor(
        async () =>
          (
            await call(`${gateway}/dashboard/api/load`, adminToken, {
              method: "POST",
              body: { orders: 100 },
              headers: PAGE_HEADERS,
            })
          ).status === 202,
        { timeoutMs: 120_000, intervalMs: 500, message: `load burst ${burst + 1} to start` },
      );
    }
    await page.reload();
    const rows = page.locator('[data-region="orders"] [data-order-id]');
    await waitFor(async () => (await rows.count()) === 500, {
      timeoutMs: 120_000,
      intervalMs: 500,
      message: "500 orders in the list",
    });
    const renders = await page.evaluate(() =>
      performance.getEntriesByName("ftgo:orders-render").map((entry) => entry.duration),
    );
    expect(renders.length).toBeGreaterThan(0);
    writeFileSync(
      artifactPath(SUITE, "orders-render.json"),
      `${JSON.stringify({ orders: 500, rendersMs: renders, firstFullRenderMs: Math.max(...renders) }, null, 2)}\n`,
    );
    await shot("09-500-orders");
    expect(pageErrors).toEqual([]);
  });

  it("Ctrl-C stops the mesh and leaves no process", async () => {
    await browser.close();
    const tracked = [...new Set([...up.processTree(), ...up.natsPids()])];
    expect(await up.interrupt(60_000)).toBe(0);
    await waitFor(() => tracked.every((pid) => !alive(pid)), {
      timeoutMs: 15_000,
      message: `still running: ${tracked.filter(alive).join(", ")}`,
    });
  });
});

describe("the dashboard under orchestration", () => {
  let orchestrated: MakeUpRun;
  let tab: Page;
  let chromium: Browser;

  beforeAll(async () => {
    orchestrated = await launchMakeUp({ readyTimeoutMs: 180_000, env: { SAGA_MODE: "orchestration" } });
    const url = `http://127.0.0.1:${orchestrated.gatewayPort}`;
    const token = await signIn(url, { role: "admin" });
    chromium = await launchChromium();
    // A script's way in: the token in the Authorization header of every request the page makes.
    const ctx = await chromium.newContext({ extraHTTPHeaders: { authorization: `Bearer ${token}` } });
    tab = await ctx.newPage();
    await tab.goto(`${url}/dashboard`);
  }, 240_000);

  afterAll(async () => {
    await chromium?.close();
    orchestrated?.dispose();
  });

  it("shows a declined order's saga as the orchestrator ran it: its moves, its commands, its compensations", async () => {
    await tab.locator('[data-connection="live"]').waitFor({ timeout: 30_000 });
    const declined = await placeFromPage("declined", tab);
    expect(await finalStateOf(declined, tab)).toBe("REJECTED");
    const timeline = tab.locator('[data-region="timeline"]');
    await waitFor(
      async () => (await timeline.locator('[data-step][data-type="ftgo.kitchen.v1.RejectTicket"]').count()) > 0,
      {
        timeoutMs: 20_000,
        message: "the orchestrator's RejectTicket command on the timeline",
      },
    );
    expect(
      await timeline.locator('[data-step][data-type="ftgo.kitchen.v1.RejectTicket"]').getAttribute("data-compensation"),
    ).toBe("true");
    expect(await timeline.locator("[data-move]").count()).toBeGreaterThan(2);
    await shot("10-orchestration-rejected", tab);
  });
});
