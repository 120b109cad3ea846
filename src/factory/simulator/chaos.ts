import { randomInt } from 'node:crypto';
import { z } from 'zod';

export const CHAOS_TYPES = ['fail', 'throttle', 'badjwt'] as const;
export type ChaosType = (typeof CHAOS_TYPES)[number];

export interface Chaos {
  type: ChaosType;
  /** Share of orders hit while the chaos is active, 0..1. 1 (every order) is production's behaviour. */
  ratio: number;
  /** Throttle delay. */
  delayMs: number;
  startsAt: number;
  /** With both set, chaos strikes only during bursts of burstMs separated by quiet gaps of gapMs. */
  burstMs?: number;
  gapMs?: number;
  /** Secret part of the report URL that ends this activation: 8 lowercase letters and digits, as production's. */
  fixCode: string;
  activatedAt: number;
}

/** What the vendor view remembers of a chaos that was ended (production: type 'none' with a fixDate). */
export interface EndedChaos {
  activatedAt: number;
  startsAt: number;
  endedAt: number;
}

const MAX_DURATION_MS = 24 * 60 * 60 * 1000;
const duration = z.number().int().min(0).max(MAX_DURATION_MS);

/** Body of the admin API's `PUT /api/chaos/:type` (a simulator extension). */
export const chaosRequestSchema = z
  .object({
    ratio: z.number().min(0).max(1).optional(),
    delayMs: duration.optional(),
    startInMs: duration.optional(),
    burstMs: duration.min(1).optional(),
    gapMs: duration.min(1).optional(),
  })
  .refine((body) => (body.burstMs === undefined) === (body.gapMs === undefined), {
    message: 'burstMs and gapMs go together',
    path: ['burstMs'],
  });

export type ChaosRequest = z.infer<typeof chaosRequestSchema>;

export function isChaosType(value: string): value is ChaosType {
  return (CHAOS_TYPES as readonly string[]).includes(value);
}

const FIX_CODE_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const FIX_CODE_LENGTH = 8;

export function newFixCode(): string {
  return Array.from({ length: FIX_CODE_LENGTH }, () => FIX_CODE_ALPHABET[randomInt(FIX_CODE_ALPHABET.length)]).join('');
}

/** The admin API's chaos (extension): starts at once unless startInMs says otherwise. */
export function activateChaos(type: ChaosType, request: ChaosRequest, now: number, defaultDelayMs: number): Chaos {
  return {
    type,
    ratio: request.ratio ?? 1,
    delayMs: request.delayMs ?? defaultDelayMs,
    startsAt: now + (request.startInMs ?? 0),
    ...(request.burstMs !== undefined && request.gapMs !== undefined ? { burstMs: request.burstMs, gapMs: request.gapMs } : {}),
    fixCode: newFixCode(),
    activatedAt: now,
  };
}

const HOUR_MS = 60 * 60 * 1000;
/** Production starts a vendor's chaos at a random minute of the next day, 08:00-13:59 MST = 15:00-20:59 UTC. */
export const PRODUCTION_START_WINDOW = { firstHourUtc: 15, minutes: 6 * 60 } as const;

/** Production's start time for a chaos initiated at `now`: `random` in [0, 1) picks the minute. */
export function productionChaosStart(now: number, random: () => number): number {
  const today = new Date(now);
  const nextMidnight = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1);
  const minute = Math.min(PRODUCTION_START_WINDOW.minutes - 1, Math.floor(random() * PRODUCTION_START_WINDOW.minutes));
  return nextMidnight + PRODUCTION_START_WINDOW.firstHourUtc * HOUR_MS + minute * 60_000;
}

/** The vendor API's chaos (production): every order once it starts, at production's next-day start time. */
export function initiateProductionChaos(type: ChaosType, now: number, random: () => number, delayMs: number): Chaos {
  return { type, ratio: 1, delayMs, startsAt: productionChaosStart(now, random), fixCode: newFixCode(), activatedAt: now };
}

/** Whether the chaos is in an active window (started, and inside a burst when bursting). */
export function chaosInWindow(chaos: Chaos, now: number): boolean {
  if (now < chaos.startsAt) return false;
  if (chaos.burstMs === undefined || chaos.gapMs === undefined) return true;
  return (now - chaos.startsAt) % (chaos.burstMs + chaos.gapMs) < chaos.burstMs;
}

/** Whether this order is hit: in an active window and picked by the ratio dice. */
export function chaosStrikes(chaos: Chaos, now: number, random: () => number): boolean {
  return chaosInWindow(chaos, now) && random() < chaos.ratio;
}

/** What the admin endpoints show: everything, including the fix code (the admin may end the chaos anyway). */
export function describeChaos(chaos: Chaos, now: number) {
  return {
    type: chaos.type,
    ratio: chaos.ratio,
    ...(chaos.type === 'throttle' ? { delayMs: chaos.delayMs } : {}),
    startsAt: new Date(chaos.startsAt).toISOString(),
    ...(chaos.burstMs !== undefined ? { burstMs: chaos.burstMs, gapMs: chaos.gapMs } : {}),
    activeNow: chaosInWindow(chaos, now),
    activatedAt: new Date(chaos.activatedAt).toISOString(),
    fixCode: chaos.fixCode,
  };
}

/** What `GET /api/vendor` shows, as production does: type and dates, never the fix code. */
export function describeVendorChaos(chaos: Chaos | null, ended: EndedChaos | null) {
  if (chaos) return { type: chaos.type, initiatedDate: new Date(chaos.activatedAt).toISOString(), startDate: new Date(chaos.startsAt).toISOString() };
  if (ended) {
    return {
      type: 'none' as const,
      initiatedDate: new Date(ended.activatedAt).toISOString(),
      startDate: new Date(ended.startsAt).toISOString(),
      fixDate: new Date(ended.endedAt).toISOString(),
    };
  }
  return { type: 'none' as const };
}
