import { describe, expect, it } from "vitest";
import { positiveIntegerArg, positiveNumberArg } from "./args.ts";

describe("helper process arguments", () => {
  const argv = ["node", "script", "2.5", "0", "abc", "8080"];
  it("reads positive numbers and integers", () => {
    expect(positiveNumberArg(argv, 2, "rate")).toBe(2.5);
    expect(positiveIntegerArg(argv, 5, "port")).toBe(8080);
  });
  it("names the argument and shows what it got", () => {
    expect(() => positiveNumberArg(argv, 3, "rate")).toThrow("rate: expected a positive number, got '0'");
    expect(() => positiveNumberArg(argv, 4, "rate")).toThrow("rate: expected a positive number, got 'abc'");
    expect(() => positiveNumberArg(argv, 9, "seconds")).toThrow(
      "seconds: expected a positive number, got ''",
    );
    expect(() => positiveIntegerArg(argv, 2, "rows")).toThrow("rows: expected a positive integer, got '2.5'");
  });
});
