import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const CHAOS_TYPES = ['fail', 'throttle', 'badjwt'] as const;
export type ChaosType = (typeof CHAOS_TYPES)[number];

export interface Chaos {
  type: ChaosType;
  /** Share of orders hit while the chaos is active, 0..1. */
  ratio: number;
  /** Throttle delay. */
  delayMs: number;
  startsAt: number;
  /** With both set, chaos strikes only during bursts of burstMs separated by quiet gaps of gapMs. */
  burstMs?: number;
  gapMs?: number;
  /** Secret part of the report URL that ends this activation. */
  fixCode: string;
  activatedAt: number;
}

const MAX_DURATION_MS = 24 * 60 * 60 * 1000;
const duration = z.number().int().min(0).max(MAX_DURATION_MS);

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

export function activateChaos(type: ChaosType, request: ChaosRequest, now: number, defaultDelayMs: number): Chaos {
  return {
    type,
    ratio: request.ratio ?? 1,
    delayMs: request.delayMs ?? defaultDelayMs,
    startsAt: now + (request.startInMs ?? 0),
    ...(request.burstMs !== undefined && request.gapMs !== undefined ? { burstMs: request.burstMs, gapMs: request.gapMs } : {}),
    fixCode: randomBytes(12).toString('hex'),
    activatedAt: now,
  };
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
