// Runs a host command (ip, …) with a timeout; a failure carries the command line and its stderr.
import { execFile } from "node:child_process";

export async function run(file: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
      if (err) {
        const detail = String(stderr).trim() || err.message;
        reject(new Error(`${file} ${args.join(" ")}: ${detail}`));
      } else resolve(String(stdout));
    });
  });
}
