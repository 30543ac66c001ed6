import { Reason } from "../conditions.ts";
import { type LiveStart, type RolloutDecision, type RolloutInput, Turn } from "./machine.ts";

const settingsOf = (input: RolloutInput) =>
  input.spec.rollout.blueGreen ?? { autoPromote: true, scaleDownDelaySeconds: 30 };

export function blueGreenStart(input: RolloutInput): LiveStart {
  const { spec, candidate, stable } = input;
  return {
    fresh: () => ({ stepIndex: 0, steps: [0, 100], desiredWeight: 0, weight: 0 }),
    started: `blue-green of v${candidate} beside v${stable}: full size behind its preview Service, analysis every ${spec.analysis.interval}, then ${settingsOf(input).autoPromote ? "the switch" : "the switch on spec.rollout.promoteVersion"}`,
  };
}

/**
 * The blue-green strategy as a pure state machine. Step 0: the candidate runs at full size beside
 * stable, reachable only through its preview Service, and is analysed on the traffic clients send
 * there. Then the switch: the model's Service moves to the candidate's pods at once, stable's pods
 * stay up for scaleDownDelaySeconds while a post-promotion analysis runs, so a rollback is a
 * Service change back. Then the promotion: the stable Deployment moves to the candidate and the
 * Service returns to it.
 */
export function blueGreen(input: RolloutInput): RolloutDecision {
  const { spec, candidate, stable, traffic } = input;
  const settings = settingsOf(input);
  const start = blueGreenStart(input);
  const turn = new Turn(input, "BlueGreen", start.fresh, start.started);
  const { state, v } = turn;
  const interval = turn.interval;
  const afterSwitch = Math.max(interval, settings.scaleDownDelaySeconds);
  const switchNow = (why: string) => {
    state.stepIndex = 1;
    state.desiredWeight = 100;
    state.stepStartedAt = turn.at;
    state.measurementsInStep = 0;
    state.phase = "Progressing";
    state.message = `switched the Service to ${v} (${why}); v${stable} kept at full size for ${settings.scaleDownDelaySeconds} s while the post-promotion analysis runs`;
    turn.event("Normal", Reason.TrafficShifted, state.message);
    return turn.decide(100, stable, turn.nextLook(afterSwitch));
  };

  if (state.phase === "Succeeded" || state.phase === "RolledBack" || state.phase === "Aborted") {
    return turn.decide(0, state.phase === "Succeeded" ? candidate : stable);
  }
  const switched = state.stepIndex >= 1;
  if (turn.abortedBySpec(switched ? "after the switch" : "before the switch")) return turn.decide(0, stable);
  if (state.phase === "Promoting") {
    return turn.promoting(
      100,
      "blue-green: preview and post-promotion analysis passed",
      " while the Service still points at the preview pods",
    );
  }
  const approved = spec.rollout.promoteVersion === candidate;
  if (spec.rollout.paused) {
    return turn.pause(switched ? "after the switch" : "before the switch", state.desiredWeight ?? 0);
  }
  if (turn.stalled()) return turn.decide(0, stable);

  if (!switched) {
    if (state.stepStartedAt === undefined) {
      if (!traffic.settled) {
        state.message = `waiting for ${v}'s preview pods (${traffic.candidateReady} ready, ${traffic.stableReady} stable)`;
        return turn.poll(0, stable);
      }
      state.stepStartedAt = turn.at;
      state.measurementsInStep = 0;
      state.message = `${v} ready at full size (${traffic.candidateReady} pods) behind its preview Service; preview analysis running`;
      turn.event("Normal", Reason.RollingOut, state.message);
      return turn.decide(0, stable, interval);
    }
    if (approved) return switchNow("spec.rollout.promoteVersion");
    if (state.phase === "Paused" && !settings.autoPromote) return turn.decide(0, stable);
    if (turn.applyMeasurement("preview")) return turn.decide(0, stable);
    if (turn.periodPassed(interval)) {
      if (settings.autoPromote) return switchNow(`preview analysis passed: ${turn.analysed()}`);
      state.phase = "Paused";
      state.message = `${v} passed its preview analysis (${turn.analysed()}); waiting for spec.rollout.promoteVersion: ${candidate} to switch`;
      turn.event("Normal", Reason.RolloutPaused, state.message);
      return turn.decide(0, stable);
    }
    return turn.decide(0, stable, turn.nextLook(interval));
  }

  if (state.phase === "Paused") state.phase = "Progressing";
  if (turn.applyMeasurement("100% after the switch")) return turn.decide(0, stable);
  if (turn.periodPassed(afterSwitch)) {
    state.phase = "Promoting";
    state.message = `${v} passed the post-promotion analysis (${turn.analysed()}); promoting`;
    return turn.poll(100, candidate);
  }
  return turn.decide(100, stable, turn.nextLook(afterSwitch));
}
