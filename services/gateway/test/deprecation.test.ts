// The v1 orders API's retirement dates are settings: their defaults are the documented ones (deprecated when
// v2 shipped, sunset six months later), and a wrong setting stops the gateway at start, named, with the others.
import { ConfigError } from "@ftgo/platform";
import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../src/config.js";
import { deprecationHeaders } from "../src/deprecation.js";

describe("the v1 orders API's deprecation settings", () => {
  it("default to the day v2 shipped and six months later, with no page linked", () => {
    const { ordersV1 } = loadGatewayConfig({}).deprecations;
    expect(deprecationHeaders(ordersV1, "/api/v2/orders")).toEqual({
      deprecation: "@1796428800", // 2026-12-05T00:00:00Z
      sunset: "Sat, 05 Jun 2027 00:00:00 GMT",
      link: '</api/v2/orders>; rel="successor-version"',
    });
  });

  it("take a date, a date and time with its zone, and a page about the deprecation", () => {
    const { ordersV1 } = loadGatewayConfig({
      ORDERS_V1_DEPRECATED_AT: "2026-12-24",
      ORDERS_V1_SUNSET_AT: "2027-01-31T18:00:00+01:00",
      ORDERS_V1_DEPRECATION_URL: "https://docs.example/v1",
    }).deprecations;
    expect(deprecationHeaders(ordersV1, "/api/v2/orders")).toEqual({
      deprecation: `@${Date.UTC(2026, 11, 24) / 1000}`,
      sunset: "Sun, 31 Jan 2027 17:00:00 GMT",
      link: '</api/v2/orders>; rel="successor-version", <https://docs.example/v1>; rel="deprecation"; type="text/html"',
    });
  });

  it("refuses a date that is no ISO 8601 date and a relative page, naming each variable", () => {
    const load = () =>
      loadGatewayConfig({
        ORDERS_V1_DEPRECATED_AT: "05/12/2026",
        ORDERS_V1_SUNSET_AT: "2027-02-30T25:00:00",
        ORDERS_V1_DEPRECATION_URL: "docs/evolving-order.md",
      });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/ORDERS_V1_DEPRECATED_AT="05\/12\/2026" is not an ISO 8601 date/);
    expect(load).toThrow(/ORDERS_V1_SUNSET_AT="2027-02-30T25:00:00" is not an ISO 8601 date/);
    expect(load).toThrow(/ORDERS_V1_DEPRECATION_URL="docs\/evolving-order.md" is not an absolute URL/);
  });

  it("refuses a sunset that is not after the deprecation", () => {
    expect(() =>
      loadGatewayConfig({ ORDERS_V1_DEPRECATED_AT: "2027-01-01", ORDERS_V1_SUNSET_AT: "2027-01-01T00:00:00Z" }),
    ).toThrow("ORDERS_V1_SUNSET_AT must be later than ORDERS_V1_DEPRECATED_AT");
  });
});
