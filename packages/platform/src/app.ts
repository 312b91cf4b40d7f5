/**
 * What every service's `start<Name>(config, log)` returns: where it listens, and how to stop it.
 * main.ts hands `stop` to onShutdown; tests call it in afterEach.
 */
export interface RunningService {
  /** "host:port" of the gRPC server. */
  readonly address: string;
  /** The bound port (useful when the config asked for port 0). */
  readonly port: number;
  /** NOT_SERVING, stop consuming, finish in-flight work, close connections and the database. */
  stop(): Promise<void>;
}
