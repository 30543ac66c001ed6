// make cluster-build as a newcomer sees it on the terminal: which component of how many is being
// built, how long it should take, go's chatter kept in a log that a failure names. A stand-in `go`
// on PATH plays the toolchain (the real cold build takes many minutes), writing the binaries asked
// for and a few "go: downloading" lines; FAKE_GO_FAIL=<package part> makes that build fail,
// FAKE_GO_SLOW=<package part> makes it take 2.5 s.
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCommand } from "./control-plane-harness.ts";

const buildScript = join(import.meta.dirname, "build.sh");
const COMPONENTS = 6;

const FAKE_GO = `#!/usr/bin/env bash
set -euo pipefail
case "$1 \${2:-}" in
  "mod download")
    info="$FAKE_GO_DIR/release.info"
    echo '{"Version":"v0","Time":"2026-07-22T18:07:38Z"}' >"$info"
    printf '{\\n\\t"Info": "%s",\\n}\\n' "$info"
    echo "go: downloading k8s.io/kubernetes v0" >&2 ;;
  "build "*)
    out=""; packages=()
    shift
    while (($#)); do
      case "$1" in
        -o) out="$2"; shift 2 ;;
        -ldflags) shift 2 ;;
        -*) shift ;;
        *) packages+=("$1"); shift ;;
      esac
    done
    [[ -z "\${FAKE_GO_SLOW:-}" || " \${packages[*]}" != *"$FAKE_GO_SLOW"* ]] || sleep 2.5
    for package in "\${packages[@]}"; do
      echo "go: downloading $package v0" >&2
      if [[ -n "\${FAKE_GO_FAIL:-}" && "$package" == *"$FAKE_GO_FAIL"* ]]; then
        echo "$package/main.go:1:1: undefined: fake" >&2
        exit 1
      fi
      name="\${package##*/}"
      [[ ! "$name" =~ ^v[0-9]+$ ]] || { name="\${package%/*}"; name="\${name##*/}"; }
      printf '#!/bin/sh\\n' >"$out/$name"
      chmod +x "$out/$name"
    done ;;
  *) echo "fake go: unexpected $*" >&2; exit 2 ;;
esac
`;

let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tm-build-test-"));
  await writeFile(join(dir, "go"), FAKE_GO);
  await chmod(join(dir, "go"), 0o755);
  env = {
    ...process.env,
    PATH: `${dir}:${process.env.PATH}`,
    TM_CACHE: join(dir, "cache"),
    FAKE_GO_DIR: dir,
  };
  delete env.TM_BUILD_LOCKED;
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function build(extra: NodeJS.ProcessEnv = {}) {
  return runCommand(buildScript, [], { env: { ...env, ...extra }, timeoutMs: 60_000 });
}

describe("make cluster-build", () => {
  it("names each component as k/N with the expected time, and keeps go's output in a log", async () => {
    const cold = await build();
    expect(cold.code, cold.stderr).toBe(0);
    const building = cold.stderr.split("\n").filter((line) => line.includes(": building "));
    expect(building).toHaveLength(COMPONENTS);
    expect(building[0]).toMatch(
      /^cluster-build: \[1\/6\] k8s v1\.36\.\d+: building kube-apiserver .* \(first build: about \d+ min \d+ s on 2 cores; go output: .*\/build-logs\/k8s-v1\.36\.\d+\.log\)$/,
    );
    expect(building[5]).toMatch(/^cluster-build: \[6\/6\] metrics-server /);
    expect(cold.stderr).not.toContain("go: downloading");
    const log = await readFile(
      join(dir, "cache", "build-logs", `${building[0]?.match(/(k8s-v[^ ]+)\.log/)?.[1]}.log`),
      "utf8",
    );
    expect(log).toContain("go: downloading k8s.io/kubernetes/cmd/kube-apiserver");
    expect(
      cold.stdout
        .trim()
        .split("\n")
        .map((line) => line.split("=")[0]),
    ).toEqual(["K8S_BIN", "ETCD_BIN", "HELM_BIN", "COREDNS_BIN", "PROMETHEUS_BIN", "METRICS_SERVER_BIN"]);

    const warm = await build();
    expect(warm.code, warm.stderr).toBe(0);
    expect(warm.stderr.trim()).toMatch(
      /^cluster-build: cached 6\/6: k8s v[\d.]+, etcd v[\d.]+, helm v[\d.]+, coredns v[\d.]+, prometheus v[\d.]+, metrics-server v[\d.]+$/,
    );

    const etcdDir = (await readdir(join(dir, "cache", "bin"))).find((name) => name.startsWith("etcd-"));
    await rm(join(dir, "cache", "bin", etcdDir as string), { recursive: true });
    const rebuilt = await build();
    expect(rebuilt.stderr).toMatch(/\[2\/6\] etcd v[\d.]+: building etcd \(last build here: \d+ s;/);
  });

  it("says every so often that a long build is still running", async () => {
    const slow = await build({ FAKE_GO_SLOW: "kube-apiserver", TM_BUILD_TICK_SECONDS: "1" });
    expect(slow.code, slow.stderr).toBe(0);
    expect(slow.stderr).toMatch(/\[1\/6\] k8s v[\d.]+: still building, \d+ s so far/);
  });

  it("names the failed component and its log, and quotes the error", async () => {
    const failed = await build({ FAKE_GO_FAIL: "etcd" });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain("go.etcd.io/etcd/server/v3/main.go:1:1: undefined: fake");
    const logPath = failed.stderr.match(
      /\[2\/6\] etcd v[\d.]+ failed after \d+ s \(exit 1\); go's output: (\S+)/,
    )?.[1];
    expect(logPath, failed.stderr).toBeDefined();
    expect(await readFile(logPath as string, "utf8")).toContain("undefined: fake");
    expect(failed.stdout).toBe("");

    const retried = await build();
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stderr).toMatch(/\[2\/6\] etcd v[\d.]+: building/);
    expect(retried.stderr).toMatch(/cached 1\/6: k8s v[\d.]+$/m);
  });
});
