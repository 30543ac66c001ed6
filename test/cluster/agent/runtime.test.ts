import { describe, expect, it } from "vitest";
import { mountLines } from "./runtime.ts";

describe("mount list for launch.sh", () => {
  it("orders parents first and gives sources relative to the pod directory", () => {
    const lines = mountLines(
      [
        {
          source: "/s/pod/volumes/sa",
          target: "/var/run/secrets/kubernetes.io/serviceaccount",
          readOnly: true,
        },
        { source: "/s/pod/volumes/tmp", target: "/tmp", readOnly: false },
      ],
      "/s/pod",
    );
    expect(lines).toBe(
      "rw\tvolumes/tmp\t/tmp\nro\tvolumes/sa\t/var/run/secrets/kubernetes.io/serviceaccount\n",
    );
  });

  it("refuses a source outside the pod directory", () => {
    expect(() => mountLines([{ source: "/etc/shadow", target: "/x", readOnly: true }], "/s/pod")).toThrow(
      "mount source /etc/shadow is outside the pod directory /s/pod",
    );
  });
});
