/** Bad input found all at once: every problem is kept, so the user fixes them in one round. */
export class InputProblems extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join("; "));
    this.problems = problems;
  }
}
