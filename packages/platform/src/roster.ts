// The mesh, in one place: every process `make up` runs, with the port it listens on by default. `make up`,
// the scripts, the gateway's backend list, the tests and the benchmarks all read it from here, so adding a
// service (or moving a port) is a one-line change.

/** A gRPC service of the mesh: its name in the registry, its default port, whether it owns a database. */
export interface ServiceEntry {
  readonly name: string;
  /** Where `make up` runs it by default; `<NAME>_PORT` overrides it. */
  readonly port: number;
  /** Its own SQLite file, `<DATA_DIR>/<name>.db` (scripts/trace.ts and the audits read it). */
  readonly database: boolean;
}

/** The five services of FTGO's Create Order saga, in the order `make up` starts them. */
export const SERVICES = [
  { name: "order", port: 50051, database: true },
  { name: "consumer", port: 50052, database: true },
  { name: "kitchen", port: 50053, database: true },
  { name: "accounting", port: 50054, database: true },
  { name: "delivery", port: 50055, database: true },
] as const satisfies readonly ServiceEntry[];

export type ServiceName = (typeof SERVICES)[number]["name"];

/**
 * The services written in Go (go/cmd/<name>, built by scripts/build-go.sh when `make up` starts them): they
 * share nothing with the others but the contracts in proto/, and join the mesh the same way (registry,
 * health, JetStream). None of them is a saga participant: the saga runs without them, and the gateway
 * treats their data as an optional leg.
 */
export const GO_SERVICES = [
  { name: "loyalty", port: 50056, database: true },
] as const satisfies readonly ServiceEntry[];

export type GoServiceName = (typeof GO_SERVICES)[number]["name"];

/** Every gRPC service `make up` runs, TypeScript then Go, in start order. */
export const MESH_SERVICES: readonly ServiceEntry[] = [...SERVICES, ...GO_SERVICES];
export type MeshServiceName = ServiceName | GoServiceName;

/** Every service's name, in start order. */
export const SERVICE_NAMES: readonly ServiceName[] = SERVICES.map((service) => service.name);

/** The API gateway: HTTP, not gRPC; started last, once the services behind it are up. */
export const GATEWAY = { name: "gateway", port: 8080, database: false } as const satisfies ServiceEntry;

/** A courier's terms: its COURIER_ID, COURIER_MINUTES (pickup to door) and COURIER_PRICE (cents). */
export interface CourierTerms {
  readonly id: string;
  readonly minutes: number;
  readonly price: number;
}

/**
 * The couriers of `make up`: no port, each answers Delivery's quote requests over NATS (publish/async
 * responses). Two are equally fast; the cheaper of them, courier-3, wins every delivery while all three are up.
 */
export const COURIERS: readonly CourierTerms[] = [
  { id: "courier-1", minutes: 25, price: 450 },
  { id: "courier-2", minutes: 18, price: 650 },
  { id: "courier-3", minutes: 18, price: 550 },
];

/** The default port of a service by name. */
export function defaultPort(name: MeshServiceName): number {
  const entry = MESH_SERVICES.find((service) => service.name === name);
  if (!entry) throw new Error(`no service named ${name} in the roster`);
  return entry.port;
}

/**
 * Where each process of `make up` serves `GET /metrics` for Prometheus (its METRICS_PORT; `<NAME>_METRICS_PORT`
 * overrides one): a small HTTP port of its own beside its gRPC or HTTP one, the Go Loyalty service's included.
 */
export const METRICS_PORTS: Readonly<Record<string, number>> = {
  order: 9551,
  consumer: 9552,
  kitchen: 9553,
  accounting: 9554,
  delivery: 9555,
  loyalty: 9556,
  gateway: 9580,
  ...Object.fromEntries(COURIERS.map((courier, i) => [courier.id, 9591 + i])),
};
