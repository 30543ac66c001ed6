import { describe, expect, it } from "vitest";
import { testImages } from "./fixtures.ts";
import { containerArgv, defaultImageTable, imageRepository, lookupImage, parseImageTable } from "./images.ts";

describe("image table", () => {
  it("strips registry, library/, tag and digest from image names", () => {
    expect(imageRepository("docker.io/library/busybox:1.36@sha256:abcd")).toBe("busybox");
    expect(imageRepository("tradingmodel/predictor:0.3.1")).toBe("tradingmodel/predictor");
    expect(imageRepository("localhost:5000/tradingmodel/predictor")).toBe(
      "localhost:5000/tradingmodel/predictor",
    );
  });

  it("maps the predictor image to node running the predictor CLI with the image's CMD", () => {
    const found = lookupImage("tradingmodel/predictor:dev", testImages);
    if (!found.ok) throw new Error(found.message);
    expect(containerArgv(found.entry)).toEqual(["/opt/node/bin/node", "/repo/predictor/src/cli.ts", "serve"]);
    expect(containerArgv(found.entry, undefined, ["train", "--out", "/tmp/m"])).toEqual([
      "/opt/node/bin/node",
      "/repo/predictor/src/cli.ts",
      "train",
      "--out",
      "/tmp/m",
    ]);
    expect(found.entry.user).toEqual({ uid: 1000, gid: 1000 });
  });

  it("gives the project's node images one shared compile cache, and busybox none", () => {
    const table = defaultImageTable("/repo", "/opt/node/bin/node", "/cluster/node-compile-cache");
    const env = (image: string) => table.find((entry) => entry.repository === image)?.env;
    expect(env("tradingmodel/predictor")?.NODE_COMPILE_CACHE).toBe("/cluster/node-compile-cache");
    expect(env("tradingmodel/operator")?.NODE_COMPILE_CACHE).toBe("/cluster/node-compile-cache");
    expect(env("busybox")).not.toHaveProperty("NODE_COMPILE_CACHE");
  });

  it("lets command replace the entrypoint and drop the image CMD", () => {
    const found = lookupImage("busybox", testImages);
    if (!found.ok) throw new Error(found.message);
    expect(containerArgv(found.entry)).toEqual(["sh"]);
    expect(containerArgv(found.entry, ["sh", "-c"], ["echo hi"])).toEqual(["sh", "-c", "echo hi"]);
  });

  it("names the image and the known images when an image has no local command", () => {
    const found = lookupImage("nginx:1.27", testImages);
    expect(found).toMatchObject({ ok: false, reason: "ImageNotRunnable" });
    if (found.ok) return;
    expect(found.message).toContain('"nginx:1.27"');
    expect(found.message).toContain("tradingmodel/predictor, tradingmodel/operator, busybox");
  });

  it("parses extra entries and names the bad field", () => {
    const table = parseImageTable(
      JSON.stringify([
        { repository: "baseline", entrypoint: ["/usr/bin/python3"], cmd: ["app.py"], workingDir: "/w" },
      ]),
      "images.json",
    );
    expect(table[0]).toMatchObject({ repository: "baseline", user: { uid: 0, gid: 0 }, env: {} });
    expect(() => parseImageTable('[{"repository":"x","entrypoint":"sh"}]', "images.json")).toThrow(
      "images.json[0].entrypoint: expected an array of strings",
    );
  });
});
