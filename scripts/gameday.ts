// npm run gameday [-- --scenario=NAME] [--profile=short|full] [--factor=N] [--json=summary.json] [--keep-tmp]
//
// Replays a fault (by default the 2025-11-26 flapping-alert incident) against the real service, the
// embedded factory simulator, Debian's Prometheus evaluating our time-scaled alert rules and Debian's
// Alertmanager routing them to a recording webhook, the pager (see docs/gameday.md).
// Exit codes: 0 = every check of the scenario passed (for bursty-fail: one page, one resolve); 1 = one
// did not; 2 = the drill could not run (no Prometheus/Alertmanager, start-up failure); 130 = interrupted.
import { writeFileSync } from 'node:fs';
import { createDisplay } from './gameday/display';
import { makePlan, oncallAtMs, realTime, scaled, SCENARIO_NAMES, SCENARIOS, type ProfileName, type ScenarioName } from './gameday/profile';
import { printSummary, runGameday } from './gameday/run';

const USAGE = `usage: npm run gameday -- [--scenario=NAME] [--profile=short|full] [--factor=N] [--json=FILE] [--keep-tmp]
  --scenario=NAME  ${SCENARIO_NAMES.join(' | ')} (default bursty-fail, the 2025-11-26 incident)
  --profile=short  time-scaled: factor 20 for bursty-fail (~2.5 minutes), 30 for the others (~1-1.5 minutes) (default; CI)
  --profile=full   factor 1: real timing (bursty-fail: ~55 minutes)
  --factor=N       override the profile's time-scale factor (1..120)
  --json=FILE      also write the summary as JSON
  --keep-tmp       keep the temp dir (service.log, prometheus.log, alertmanager.log, alertmanager.yml, scaled rules)
  --alertmanager-config=FILE  route through this Alertmanager configuration instead of grafana/alertmanager/alertmanager.yml`;

function parseArgs(argv: string[]) {
  let profile: ProfileName = 'short';
  let scenario: ScenarioName = 'bursty-fail';
  let alertmanagerConfig: string | undefined;
  let factor: number | undefined;
  let json: string | undefined;
  let keepTmp = false;
  for (const arg of argv) {
    const [key, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (key === '--profile' && (value === 'short' || value === 'full')) profile = value;
    else if (key === '--scenario' && (SCENARIO_NAMES as readonly string[]).includes(value ?? '')) scenario = value as ScenarioName;
    else if (key === '--alertmanager-config' && value) alertmanagerConfig = value;
    else if (key === '--factor' && value !== undefined && /^\d+(\.\d+)?$/.test(value)) factor = Number(value);
    else if (key === '--json' && value) json = value;
    else if (key === '--keep-tmp' && value === undefined) keepTmp = true;
    else if (key === '--help' || key === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`unknown or malformed argument: ${arg}\n${USAGE}`);
      process.exit(2);
    }
  }
  return { profile, scenario, factor, json, keepTmp, alertmanagerConfig };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const plan = makePlan(args.profile, args.factor, args.scenario);
  const display = createDisplay(process.stdout, { plainEveryMs: Math.max(5000, scaled(plan, 4 * 60_000)) });
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (name: string) => {
    interrupts++;
    if (interrupts > 1) {
      console.error(`\n${name} again: exiting now (the exit hook still kills Prometheus and Alertmanager and removes the temp dir)`);
      process.exit(130);
    }
    console.error(`\n${name}: stopping the game day and cleaning up (press Ctrl-C again to force)`);
    controller.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  display.line(display.color('bold', `JWT Pizza game day, scenario ${plan.scenario}: ${SCENARIOS[plan.scenario].title}`));
  if (plan.scenario === 'bursty-fail') {
    const chaosReal = realTime({ factor: 1 }, (plan.oncallInBurst - 1) * (plan.burstMs + plan.gapMs) + plan.oncallIntoBurstMs);
    display.line(
      `profile ${plan.profile}, factor ${plan.factor}: ${plan.ordersPerMinute} orders/min, ${realTime({ factor: 1 }, plan.warmupMs)} healthy, then ${chaosReal} of bursty 'fail' chaos ` +
        `(${realTime({ factor: 1 }, plan.burstMs)} bursts, ${realTime({ factor: 1 }, plan.gapMs)} gaps), fix, recovery — ` +
        `about ${Math.ceil((scaled(plan, plan.warmupMs) + oncallAtMs(plan) + scaled(plan, 10 * 60_000 + plan.holdAfterResolveMs)) / 60_000)} min of wall time`,
    );
  } else {
    display.line(`profile ${plan.profile}, factor ${plan.factor}: ${plan.ordersPerMinute} orders/min, ${realTime({ factor: 1 }, plan.warmupMs)} healthy, then ${realTime({ factor: 1 }, plan.chaosMs)} of the scenario`);
  }

  let code: number;
  try {
    const summary = await runGameday({ plan, display, keepTmp: args.keepTmp, signal: controller.signal, alertmanagerConfig: args.alertmanagerConfig });
    printSummary(summary, plan, display);
    if (args.json) writeFileSync(args.json, JSON.stringify(summary, null, 2));
    code = summary.pass ? 0 : 1;
  } catch (error) {
    const err = error as Error;
    if (err.name === 'Aborted' && controller.signal.aborted) code = 130;
    else {
      console.error(`\ngame day could not run: ${err.name === 'Aborted' ? err.message : (err.stack ?? err.message)}`);
      code = 2;
    }
    if (args.json) writeFileSync(args.json, JSON.stringify({ pass: false, error: err.message }, null, 2));
  }
  process.exit(code);
}

void main();
