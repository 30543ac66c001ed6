import { describe, expect, it } from "vitest";
import { ConfigError, parseServeConfig } from "./config.ts";

const required = { MODEL_NAME: "demo", MODEL_VERSION: "v1", ARTIFACT_PATH: "/models/a.json" };

describe("parseServeConfig", () => {
  it("takes the operator's environment and fills in defaults", () => {
    const config = parseServeConfig(
      { ...required, MODEL_TRACK: "canary", SHADOW_URL: "http://shadow:8080/" },
      [],
    );
    expect(config).toMatchObject({
      modelName: "demo",
      modelVersion: "v1",
      modelTrack: "canary",
      artifactPath: "/models/a.json",
      port: 8080,
      host: "0.0.0.0",
      batchLimit: 1000,
      shadowUrl: "http://shadow:8080",
      chaosLatencyMs: 0,
      chaosErrorFraction: 0,
    });
    expect(config.artifactSha256).toBeUndefined();
  });

  it("lets flags override the environment", () => {
    const config = parseServeConfig({ ...required, PORT: "9000" }, [
      "--port",
      "9100",
      "--model-track",
      "shadow",
    ]);
    expect(config.port).toBe(9100);
    expect(config.modelTrack).toBe("shadow");
  });

  it.each([
    [{ PORT: "80.5" }, /^PORT="80.5" is invalid: want an integer from 0 to 65535$/],
    [{ PORT: "99999" }, /^PORT=/],
    [{ BATCH_LIMIT: "0" }, /^BATCH_LIMIT=/],
    [{ CHAOS_ERROR_FRACTION: "1.5" }, /^CHAOS_ERROR_FRACTION="1.5" is invalid: want a number from 0 to 1$/],
    [{ ARTIFACT_SHA256: "abc" }, /^ARTIFACT_SHA256="abc" is invalid: want 64 lowercase hex digits$/],
    [{ MODEL_TRACK: "Canary!" }, /^MODEL_TRACK=/],
    [{ MODEL_VERSION: "-v1" }, /^MODEL_VERSION=/],
    [{ SHADOW_URL: "ftp://x" }, /^SHADOW_URL=/],
    [{ SHADOW_URL: "not a url" }, /^SHADOW_URL=/],
    [{ SHADOW_URL: "http://user:secret@shadow:8080" }, /^SHADOW_URL must not carry credentials$/],
    [{ SHADOW_URL: "http://shadow:8080/?x=1" }, /^SHADOW_URL=.*without query or fragment/],
    [{ LOG_LEVEL: "loud" }, /^LOG_LEVEL=/],
  ])("rejects %o naming the variable", (env, message) => {
    expect(() => parseServeConfig({ ...required, ...env }, [])).toThrow(message);
  });

  it("names a missing required variable and its flag", () => {
    const { MODEL_VERSION: _, ...env } = required;
    expect(() => parseServeConfig(env, [])).toThrow(/^MODEL_VERSION is required \(or --model-version\)/);
  });

  it("names the flag when the bad value came from a flag", () => {
    expect(() => parseServeConfig(required, ["--psi-window", "five"])).toThrow(
      /^--psi-window="five" is invalid/,
    );
  });

  it("rejects unknown flags and stray arguments", () => {
    expect(() => parseServeConfig(required, ["--prot", "1"])).toThrow(ConfigError);
    expect(() => parseServeConfig(required, ["extra"])).toThrow(ConfigError);
  });
});
