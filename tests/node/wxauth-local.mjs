// wxauth-local for the Node test suites (tests/browser/, tests/oidc-clients/): the program
// and one running instance in demo mode on a free port, ready once its banner is printed.

import { spawn, spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The wxauth-local program: $WXAUTH_LOCAL_BIN, else what `cargo build` makes of it. */
function localBinary() {
  if (process.env.WXAUTH_LOCAL_BIN) return process.env.WXAUTH_LOCAL_BIN;
  const build = spawnSync(
    "cargo",
    ["build", "-p", "wxauth-local", "--bin", "wxauth-local", "--locked", "--message-format=json-render-diagnostics"],
    { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 },
  );
  if (build.status !== 0) throw new Error(`cargo build -p wxauth-local failed (${build.status})`);
  const executable = build.stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line))
    .find((m) => m.reason === "compiler-artifact" && m.target?.name === "wxauth-local" && m.executable)?.executable;
  if (!executable) throw new Error("cargo build named no wxauth-local executable");
  return executable;
}

/**
 * wxauth-local in demo mode on a free port, with `env` added to its environment. Returns
 * its base URL, the demo signing key from its banner, its stderr so far, and `stop()`.
 */
export async function startWxauthLocal(env = {}) {
  const fullEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: "0", RUST_LOG: "warn", ...env };
  const child = spawn(localBinary(), [], { cwd: ROOT, env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const banner = await new Promise((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`no banner within 30 s: ${out}${stderr}`)), 30_000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (/signing key[^\n]*: \S+\n/.test(out)) {
        clearTimeout(timer);
        ok(out);
      }
    });
    child.on("exit", (code) => fail(new Error(`wxauth-local exited (${code}): ${out}${stderr}`)));
  });
  return {
    baseUrl: banner.match(/open (http:\/\/127\.0\.0\.1:\d+)\//)[1],
    signingKey: banner.match(/signing key[^\n]*: (\S+)\n/)[1],
    stderr: () => stderr,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.on("exit", done);
        child.kill("SIGTERM");
      }),
  };
}
