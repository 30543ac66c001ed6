import type { TradingModelSpec } from "../api/types.ts";
import { Reason } from "../conditions.ts";
import { durationSeconds } from "../duration.ts";
import { blueGreen, blueGreenStart } from "./bluegreen.ts";
import { canary, canaryStart } from "./canary.ts";
import { type LiveStart, type RolloutDecision, type RolloutInput, Turn } from "./machine.ts";

/** Whether a rollout starting now begins with a shadow phase. */
export const hasShadowPhase = (spec: TradingModelSpec) =>
  spec.rollout.strategy === "Shadow" || spec.rollout.shadow !== undefined;

const LIVE = {
  Canary: { decide: canary, start: canaryStart },
  BlueGreen: { decide: blueGreen, start: blueGreenStart },
} as const;

/**
 * Any rollout: a Shadow one, or a canary or blue-green one that is (or starts) in its shadow phase,
 * goes through the shadow machine; otherwise the live strategy's. The shadow phase is planned when
 * the rollout starts (like the steps): adding rollout.shadow mid-rollout applies to the next one.
 */
export function decideRollout(input: RolloutInput): RolloutDecision {
  const strategy = input.spec.rollout.strategy;
  if (strategy === "Shadow") return shadow(input);
  const live = LIVE[strategy];
  const stored =
    input.state?.version === input.candidate && input.state.strategy === strategy ? input.state : undefined;
  const inShadow = stored ? stored.shadowPhase === "Running" : hasShadowPhase(input.spec);
  return inShadow ? shadow(input, live.start(input)) : live.decide(input);
}

/**
 * The shadow phase as a pure state machine. The candidate's pods (track shadow) sit behind the
 * `<model>-shadow` Service that stable's pods always mirror to, so they get a copy of every live
 * request and answer no client; stable's pods are never touched. Once every shadow pod is ready,
 * the candidate is measured each interval on its agreement with stable's answers, its latency,
 * errors and drift. After `shadow.duration` with a passing measurement the phase is passed: a
 * Shadow rollout promotes the candidate (the stable Deployment moves to it), a canary or
 * blue-green one goes on live (`then`). A failure past failureLimit rejects the candidate, which
 * never answered a client.
 */
export function shadow(input: RolloutInput, then?: LiveStart): RolloutDecision {
  const { spec, candidate, stable, traffic } = input;
  const duration = spec.rollout.shadow?.duration ?? spec.analysis.interval;
  const turn = new Turn(
    input,
    then ? spec.rollout.strategy : "Shadow",
    () => ({ ...(then?.fresh() ?? { stepIndex: 0 }), desiredWeight: 0, weight: 0, shadowPhase: "Running" }),
    `shadow of v${candidate} beside v${stable} for at least ${duration}: a mirror of v${stable}'s live requests, answering no client, analysis every ${spec.analysis.interval}; then ${then ? then.started : `promotion if it passes`}`,
  );
  const { state, v } = turn;
  const minimum = Math.max(turn.interval, durationSeconds(duration));
  const where = "shadow";
  const next = () =>
    state.strategy === "Canary"
      ? `canary at ${state.steps?.[0]}%`
      : state.strategy === "BlueGreen"
        ? "blue-green preview"
        : "promotion";

  if (state.phase === "Succeeded" || state.phase === "RolledBack" || state.phase === "Aborted") {
    return turn.decide(0, state.phase === "Succeeded" ? candidate : stable);
  }
  if (turn.abortedBySpec(`in ${where}`)) return turn.decide(0, stable);
  /** The shadow phase is over: a Shadow rollout promotes, the others go live at their first step. */
  const pass = (reason: Reason, message: string) => {
    state.shadowPhase = "Passed";
    delete state.stepStartedAt;
    state.measurementsInStep = 0;
    state.message = message;
    turn.event("Normal", reason, message);
    if (!then) {
      state.phase = "Promoting";
      return turn.poll(0, candidate);
    }
    state.phase = "Progressing";
    state.desiredWeight = state.steps?.[0] ?? 0;
    return turn.poll(state.desiredWeight, stable);
  };
  if (state.phase === "Promoting") return turn.promoting(0, `shadow: ${turn.analysed()}`);
  if (spec.rollout.promoteVersion === candidate) {
    return pass(
      Reason.RolloutPromotedBySpec,
      `${v}'s shadow phase ended by spec.rollout.promoteVersion${then ? "" : "; promoting"}`,
    );
  }
  if (then && spec.rollout.shadow === undefined) {
    return pass(Reason.ShadowPassed, `${v}'s shadow phase ended: spec.rollout.shadow was removed`);
  }
  if (spec.rollout.paused) return turn.pause(`in ${where}`, 0);
  if (state.phase === "Paused") turn.resume(`in ${where}`);
  if (turn.stalled()) return turn.decide(0, stable);

  if (state.stepStartedAt === undefined) {
    if (!traffic.settled || traffic.candidateReady === 0) {
      state.message = `waiting for ${v}'s shadow pods (${traffic.candidateReady} ready, ${traffic.stableReady} stable)`;
      return turn.poll(0, stable);
    }
    state.stepStartedAt = turn.at;
    state.measurementsInStep = 0;
    state.message = `${v} in shadow: ${traffic.candidateReady} pods get a mirror of v${stable}'s live requests and answer no client; judged for at least ${duration}`;
    turn.event("Normal", Reason.ShadowStarted, state.message);
    return turn.decide(0, stable, turn.nextLook(minimum));
  }
  if (turn.applyMeasurement(where)) return turn.decide(0, stable);
  if (turn.periodPassed(minimum)) {
    const elapsed = Math.round((input.now.getTime() - Date.parse(state.stepStartedAt)) / 1000);
    return pass(
      Reason.ShadowPassed,
      `${v} passed its shadow phase after ${elapsed} s (${turn.analysed()}); next ${next()}`,
    );
  }
  return turn.decide(0, stable, turn.nextLook(minimum));
}
