import { mkdir, mkdtemp, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { podLogs } from "./logs.ts";

let dir = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "agent-logs-"));
  const write = async (pod: string, container: string, restart: number, text: string) => {
    await mkdir(join(dir, "logs", "pods", pod, container), { recursive: true });
    await writeFile(join(dir, "logs", "pods", pod, container, `${restart}.log`), text);
  };
  await write("shop_web_uid-old", "main", 0, "old pod\n");
  await utimes(join(dir, "logs", "pods", "shop_web_uid-old"), new Date(1000), new Date(1000));
  await write("shop_web_uid-new", "main", 0, "first run\n");
  await write("shop_web_uid-new", "main", 1, "second run\n");
  await write("shop_two_uid", "a", 0, "a\n");
  await write("shop_two_uid", "b", 0, "b\n");
});

describe("pod logs", () => {
  it("reads the newest pod's current container instance, or the previous one", async () => {
    expect(await podLogs(dir, { namespace: "shop", pod: "web" })).toBe("second run\n");
    expect(await podLogs(dir, { namespace: "shop", pod: "web", previous: true })).toBe("first run\n");
  });

  it("asks for a container when the pod has several, and names unknown pods", async () => {
    await expect(podLogs(dir, { namespace: "shop", pod: "two" })).rejects.toThrow(
      "pod shop/two: name a container, one of: a, b",
    );
    expect(await podLogs(dir, { namespace: "shop", pod: "two", container: "b" })).toBe("b\n");
    await expect(podLogs(dir, { namespace: "shop", pod: "nope" })).rejects.toThrow(
      "no logs for pod shop/nope",
    );
  });
});
