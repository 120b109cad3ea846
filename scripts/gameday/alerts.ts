// Follows the state of every alert by polling Prometheus' GET /api/v1/alerts, per alert name:
// firing if any of its series fires, else pending if any is pending, else inactive. A "firing" is a
// transition into firing: the page on-call would get.
import type { PromAlert } from './prometheus';

export type AlertState = 'inactive' | 'pending' | 'firing';

export interface Transition {
  alertname: string;
  from: AlertState;
  to: AlertState;
  at: number;
}

export interface AlertHistory {
  state: AlertState;
  firings: number;
  transitions: Transition[];
  firstPendingAt?: number;
  firstFiringAt?: number;
}

const RANK: Record<AlertState, number> = { inactive: 0, pending: 1, firing: 2 };

export function aggregateStates(alerts: PromAlert[]): Map<string, AlertState> {
  const states = new Map<string, AlertState>();
  for (const alert of alerts) {
    const name = alert.labels.alertname;
    if (!name || (alert.state !== 'pending' && alert.state !== 'firing')) continue;
    const current = states.get(name) ?? 'inactive';
    if (RANK[alert.state] > RANK[current]) states.set(name, alert.state);
  }
  return states;
}

export class AlertTracker {
  readonly history = new Map<string, AlertHistory>();
  polls = 0;
  pollErrors = 0;
  lastPollAt?: number;

  constructor(private readonly onTransition: (transition: Transition) => void = () => undefined) {}

  /** Feeds one poll result; alerts not listed are inactive. */
  observe(alerts: PromAlert[], at: number, knownNames: Iterable<string> = []): void {
    this.polls++;
    this.lastPollAt = at;
    const states = aggregateStates(alerts);
    const names = new Set([...this.history.keys(), ...states.keys(), ...knownNames]);
    for (const name of names) {
      const entry = this.get(name);
      const next = states.get(name) ?? 'inactive';
      if (next === entry.state) continue;
      const transition: Transition = { alertname: name, from: entry.state, to: next, at };
      entry.transitions.push(transition);
      entry.state = next;
      if (next === 'firing') {
        entry.firings++;
        entry.firstFiringAt ??= at;
      }
      if (next === 'pending') entry.firstPendingAt ??= at;
      this.onTransition(transition);
    }
  }

  get(name: string): AlertHistory {
    let entry = this.history.get(name);
    if (!entry) {
      entry = { state: 'inactive', firings: 0, transitions: [] };
      this.history.set(name, entry);
    }
    return entry;
  }

  state(name: string): AlertState {
    return this.history.get(name)?.state ?? 'inactive';
  }

  /** Firings of `name` that began inside [from, to). */
  firingsBetween(name: string, from: number, to: number): number {
    return (this.history.get(name)?.transitions ?? []).filter((t) => t.to === 'firing' && t.at >= from && t.at < to).length;
  }
}
