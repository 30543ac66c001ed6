import { DEFAULT_CANARY_STEPS } from "../api/delivery.ts";
import type { TradingModelSpec } from "../api/types.ts";
import { Reason } from "../conditions.ts";
import { type LiveStart, type RolloutDecision, type RolloutInput, Turn } from "./machine.ts";

export function canarySteps(spec: TradingModelSpec): number[] {
  return [...(spec.rollout.canary?.steps ?? DEFAULT_CANARY_STEPS)];
}

/**
 * The canary strategy as a pure state machine: from the stored rollout, what the router reports and
 * this reconcile's measurement, to the next rollout state, the weight to ask for, stage changes and
 * events with their numbers. Each step below 100 is held for an interval with at least one passing
 * measurement; 100 (or the list's end) is the promotion. Nothing here waits or calls out.
 */
export function canaryStart({ spec, candidate, stable }: RolloutInput): LiveStart {
  const steps = canarySteps(spec);
  return {
    fresh: () => ({ stepIndex: 0, steps, desiredWeight: steps[0] ?? 100, weight: 0 }),
    started: `canary of v${candidate} replacing v${stable}: steps ${steps.join(" -> ")}%, analysis every ${spec.analysis.interval}`,
  };
}

export function canary(input: RolloutInput): RolloutDecision {
  const { spec, candidate, stable, traffic } = input;
  const start = canaryStart(input);
  const turn = new Turn(input, "Canary", start.fresh, start.started);
  const { state, v } = turn;
  const steps = state.steps ?? canarySteps(spec);
  const stepText = () => `step ${state.stepIndex + 1}/${steps.length}`;
  const where = () => `${traffic.weight}% (${stepText()})`;
  // Entering the promotion keeps the message that says why; the next reconciles count its progress.
  const promoting = () => turn.poll(100, candidate);

  if (state.phase === "Succeeded" || state.phase === "RolledBack" || state.phase === "Aborted") {
    return turn.decide(0, state.phase === "Succeeded" ? candidate : stable);
  }
  if (turn.abortedBySpec(`at ${where()}`)) return turn.decide(0, stable);
  if (spec.rollout.promoteVersion === candidate && state.phase !== "Promoting") {
    state.phase = "Promoting";
    state.message = `${v} promoted by spec.rollout.promoteVersion at ${stepText()}, skipping the rest`;
    turn.event("Normal", Reason.RolloutPromotedBySpec, state.message);
  }
  if (state.phase === "Promoting") {
    state.desiredWeight = 100;
    return turn.promoting(100, `canary ${steps.join(", ")}% passed`);
  }
  if (spec.rollout.paused) return turn.pause(`at ${where()}`, state.desiredWeight ?? 0);
  if (state.phase === "Paused") turn.resume(`at ${stepText()}`);
  if (turn.stalled()) return turn.decide(0, stable);

  const target = steps[state.stepIndex] ?? 100;
  state.desiredWeight = target;
  if (target >= 100) {
    state.phase = "Promoting";
    state.message = `${v} passed every step; promoting`;
    return promoting();
  }
  const interval = turn.interval;
  if (state.stepStartedAt === undefined) {
    if (!traffic.settled || traffic.candidateReady === 0) {
      state.message = `${stepText()}: waiting for pods (${traffic.candidateReady} candidate, ${traffic.stableReady} stable ready) to give ${v} ${target}%`;
      return turn.poll(target, stable);
    }
    state.stepStartedAt = turn.at;
    state.measurementsInStep = 0;
    state.message = `${stepText()}: ${v} receives ${traffic.weight}% of traffic (asked ${target}%, ${traffic.candidateReady} of ${traffic.candidateReady + traffic.stableReady} ready pods)`;
    turn.event("Normal", Reason.TrafficShifted, state.message);
    return turn.decide(target, stable, interval);
  }
  if (turn.applyMeasurement(where())) return turn.decide(0, stable);
  if (turn.periodPassed(interval)) {
    const next = steps[state.stepIndex + 1] ?? 100;
    const elapsed = Math.round((input.now.getTime() - Date.parse(state.stepStartedAt)) / 1000);
    const message = `${v} passed ${stepText()} at ${traffic.weight}% after ${elapsed} s (${turn.analysed()}); next ${next >= 100 ? "promotion" : `${next}%`}`;
    turn.event("Normal", Reason.RolloutStepAdvanced, message);
    state.stepIndex += 1;
    delete state.stepStartedAt;
    state.measurementsInStep = 0;
    state.message = message;
    state.desiredWeight = next;
    if (next >= 100) {
      state.phase = "Promoting";
      return promoting();
    }
    return turn.poll(next, stable);
  }
  return turn.decide(target, stable, turn.nextLook(interval));
}
