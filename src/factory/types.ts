// The seam between the order use case and the pizza factory. The order flow only sees these types;
// the HTTP client (client.ts) and any test double implement FactoryClient.

export interface FactoryOrderRequest {
  diner: { id: number; name: string; email: string };
  order: {
    id: number;
    franchiseId: number;
    storeId: number;
    items: { menuId: number; description: string; price: number }[];
  };
}

/** The `iss` the production JWT Pizza factory signs pizzas with (in the JWS protected header). */
export const PRODUCTION_FACTORY_ISSUER = 'cs329.click';

/** Bounded set of failure reasons; also the `reason` label of pizza_purchases_total. */
export type FactoryFailureReason = 'factory_error' | 'timeout' | 'circuit_open' | 'invalid_jwt';
export const FACTORY_FAILURE_REASONS: readonly FactoryFailureReason[] = ['factory_error', 'timeout', 'circuit_open', 'invalid_jwt'];

export type FactoryOutcome =
  | { kind: 'fulfilled'; jwt: string; latencyMs: number; reportUrl?: string }
  | {
      kind: 'failed';
      reason: FactoryFailureReason;
      /** Diner-safe text; never contains the API key or the report URL. */
      message: string;
      /** HTTP status the factory answered with, when it answered. */
      factoryStatus?: number;
      /** The factory's chaos report URL, kept for on-call only. */
      reportUrl?: string;
      latencyMs: number;
    };

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface FactoryClientState {
  circuit: CircuitState;
  consecutiveFailures: number;
  /** Recent factory latencies (ms), newest last, bounded. */
  recentLatencyMs: { p50: number | null; p99: number | null; samples: number };
  lastError: { reason: FactoryFailureReason; message: string; at: string } | null;
  /** Report URL of the chaos currently seen (API key redacted), cleared after a clean fulfilment. */
  activeReportUrl: string | null;
}

export interface FactoryClient {
  createPizza(request: FactoryOrderRequest): Promise<FactoryOutcome>;
  state(): FactoryClientState;
  close(): Promise<void>;
}
