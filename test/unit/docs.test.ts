import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";

/*
 * The README is the front page and docs/ holds the rest; pages move and get renamed, so every
 * relative link and every #anchor must still land (as the code hosts resolve them).
 */

const root = join(import.meta.dirname, "..", "..");
const pages = ["README.md", ...readdirSync(join(root, "docs")).map((f) => join("docs", f))].filter((p) =>
  p.endsWith(".md"),
);

/** GitHub's heading anchor: lower case, punctuation but hyphens and spaces dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- ]/gu, "")
    .replace(/ /g, "-");
}

function anchors(text: string): Set<string> {
  const found = new Set<string>();
  let inCode = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("```")) inCode = !inCode;
    const heading = !inCode && /^#{1,6} (.+)$/.exec(line);
    if (heading) found.add(slug(heading[1] as string));
  }
  return found;
}

function links(text: string): string[] {
  const withoutCode = text.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] as string)
    .filter((target) => !/^[a-z]+:/.test(target));
}

describe("the README and docs/", () => {
  it("keep the README a front page: under 300 lines", () => {
    expect(readFileSync(join(root, "README.md"), "utf8").split("\n").length).toBeLessThan(300);
  });

  it.each(pages)("%s: every relative link and anchor lands", (page) => {
    const text = readFileSync(join(root, page), "utf8");
    for (const target of links(text)) {
      const [path = "", anchor] = target.split("#");
      const file = path === "" ? join(root, page) : join(root, dirname(page), path);
      expect(existsSync(file), `${page} links to ${target}`).toBe(true);
      if (anchor !== undefined && file.endsWith(".md")) {
        expect(
          [...anchors(readFileSync(file, "utf8"))],
          `${page} links to ${target} (${relative(root, file)})`,
        ).toContain(anchor);
      }
    }
  });
});
