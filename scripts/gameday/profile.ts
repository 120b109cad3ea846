// The drill's timeline, written in REAL (incident) time and divided by the scale factor.
// The 2025-11-26 incident: 2 purchases a minute, the `fail` chaos striking in bursts of ~4 minutes with
// ~2 minutes of no traffic at all between them, on-call finding the report URL after ~40 minutes.

import { scaleNotificationDuration } from './scale';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

export type ProfileName = 'short' | 'full';

export const SCENARIO_NAMES = ['bursty-fail', 'badjwt', 'throttle', 'scanner', 'healthy'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ScenarioShape {
  /** One line for the report header. */
  title: string;
  /** Default factor of the short profile (the full profile is always factor 1). */
  shortFactor: number;
  ordersPerMinute: number;
  warmupMs: number;
  /** badjwt / throttle: chaos runs this long before on-call acts; healthy: the length of the 1% run; scanner: how long to watch after the probes. */
  chaosMs: number;
  /** Share of orders the chaos hits. */
  chaosRatio: number;
}

export const SCENARIOS: Record<ScenarioName, ScenarioShape> = {
  // The 2025-11-26 incident (the only scenario with bursts; its timing is PROFILES below).
  'bursty-fail': { title: "the 2025-11-26 flapping purchase alert, replayed (bursty 'fail' chaos)", shortFactor: 20, ordersPerMinute: 2, warmupMs: 5 * MINUTE, chaosMs: 0, chaosRatio: 1 },
  // Every factory answer carries a pizza JWT that does not verify, until on-call ends it.
  badjwt: { title: "'badjwt' chaos: the factory answers 200 with pizzas that do not verify", shortFactor: 30, ordersPerMinute: 6, warmupMs: 3 * MINUTE, chaosMs: 6 * MINUTE, chaosRatio: 1 },
  // The factory holds every call ~32 s; the client gives up after its 8 s timeout, then the circuit opens.
  throttle: { title: "'throttle' chaos: the factory holds calls ~32 s, the client times out", shortFactor: 30, ordersPerMinute: 6, warmupMs: 3 * MINUTE, chaosMs: 6 * MINUTE, chaosRatio: 1 },
  // A burst of scanner probes while diners order normally: a ticket, never a page.
  scanner: { title: 'scanner probes (GET /prod/.env, /.git/config, /wp-login.php, ...) during healthy traffic', shortFactor: 30, ordersPerMinute: 2, warmupMs: 3 * MINUTE, chaosMs: 12 * MINUTE, chaosRatio: 0 },
  // 1% of orders fail at random. 50 orders a minute puts ~5 failures in every 10-minute window, so the
  // rule's ">= 2 failures" clause is met and its 5% ratio is what keeps the pager quiet. Nobody is woken.
  healthy: { title: 'a healthy run: 1% of purchases fail at random', shortFactor: 30, ordersPerMinute: 50, warmupMs: 3 * MINUTE, chaosMs: 15 * MINUTE, chaosRatio: 0.01 },
};

export interface Plan {
  profile: ProfileName;
  scenario: ScenarioName;
  factor: number;
  /** See ScenarioShape. */
  chaosMs: number;
  chaosRatio: number;
  /** A page must reach the pager within this (real) time of the first failed order. */
  pageBudgetMs: number;
  /** Prometheus' --rules.alert.resend-delay, scaled from its 1m default. */
  resendDelay: string;
  /** Purchases per real minute during traffic (the incident's rate). */
  ordersPerMinute: number;
  warmupMs: number;
  burstMs: number;
  gapMs: number;
  /** On-call acts during this burst (1-based)... */
  oncallInBurst: number;
  /** ...this long after it started. */
  oncallIntoBurstMs: number;
  /**
   * Every alert must resolve within this after the fix: ~8 real minutes for PizzaPurchaseFailures (3m of
   * clean traffic + keep_firing_for 5m), ~20 for PizzaInvalidJwt (its 10m window + keep_firing_for 10m).
   */
  recoveryDeadlineMs: number;
  /** Traffic keeps flowing this long after the alert resolved, to show it stays resolved. */
  holdAfterResolveMs: number;
  /** Production-like settings, scaled the same way. */
  pushIntervalSeconds: number;
  evaluationInterval: string;
  circuitCooldownMs: number;
  /** How often the alert state is polled (wall time, not scaled below 1 s). */
  pollMs: number;
}

const BASE = {
  ordersPerMinute: 2,
  warmupMs: 5 * MINUTE,
  burstMs: 4 * MINUTE,
  gapMs: 2 * MINUTE,
  oncallIntoBurstMs: 2 * MINUTE,
  recoveryDeadlineMs: 30 * MINUTE,
  holdAfterResolveMs: 2 * MINUTE,
};

export const PROFILES: Record<ProfileName, { factor: number; oncallInBurst: number; oncallIntoBurstMs: number }> = {
  // 4 bursts, fix 2 minutes into the 4th: 20 incident minutes of chaos in 60 s. About 2 minutes overall.
  short: { factor: 20, oncallInBurst: 4, oncallIntoBurstMs: 2 * MINUTE },
  // The incident as it happened: 7 bursts, fix 3 minutes into the 7th (39 minutes of chaos). ~55 minutes.
  full: { factor: 1, oncallInBurst: 7, oncallIntoBurstMs: 3 * MINUTE },
};

/** Wall-clock milliseconds of a real-time duration at this factor. */
export const scaled = (plan: Pick<Plan, 'factor'>, realMs: number) => realMs / plan.factor;

export function makePlan(profile: ProfileName, factorOverride?: number, scenario: ScenarioName = 'bursty-fail'): Plan {
  const preset = PROFILES[profile];
  const shape = SCENARIOS[scenario];
  const factor = factorOverride ?? (profile === 'short' ? shape.shortFactor : preset.factor);
  if (!Number.isFinite(factor) || factor < 1 || factor > 120) throw new Error(`--factor must be between 1 and 120, got ${factorOverride}`);
  return {
    ...BASE,
    profile,
    scenario,
    factor,
    ordersPerMinute: shape.ordersPerMinute,
    warmupMs: shape.warmupMs,
    chaosMs: shape.chaosMs,
    chaosRatio: shape.chaosRatio,
    pageBudgetMs: 3 * MINUTE,
    resendDelay: scaleNotificationDuration('1m', factor),
    oncallInBurst: preset.oncallInBurst,
    oncallIntoBurstMs: preset.oncallIntoBurstMs,
    // Production pushes every 15 s; scaled, but at least 0.5 s apart (a 1 s floor made factor 20 push
    // every 20 real seconds, which alone could push a page past its 3-minute budget).
    pushIntervalSeconds: Math.min(15, Math.max(0.5, 15 / factor)),
    evaluationInterval: `${Math.max(1, Math.ceil(15 / factor))}s`,
    circuitCooldownMs: Math.max(100, Math.round(30_000 / factor)),
    pollMs: Math.min(1000, Math.max(250, Math.round(60_000 / factor / 3))),
  };
}

/** Wall-clock ms from the chaos start to the on-call fix. */
export function oncallAtMs(plan: Plan): number {
  return scaled(plan, (plan.oncallInBurst - 1) * (plan.burstMs + plan.gapMs) + plan.oncallIntoBurstMs);
}

/** Formats a wall-clock duration as the real incident time it stands for: "2m24s". */
export function realTime(plan: Pick<Plan, 'factor'>, wallMs: number): string {
  const totalSeconds = Math.round((wallMs * plan.factor) / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (h) return `${h}h${String(m).padStart(2, '0')}m`;
  return m ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

/** mm:ss (or h:mm:ss) of a wall-clock duration. */
export function clock(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const totalSeconds = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h ? `${sign}${h}:${mm}:${ss}` : `${sign}${mm}:${ss}`;
}
