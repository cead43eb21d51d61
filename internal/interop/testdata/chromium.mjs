// chromium.mjs: what browser.mjs and statuspage.mjs share to drive the
// system's headless Chromium through playwright-core (which downloads
// nothing): launching it sandboxed from the network, collecting console
// errors, bounding waits, and cleaning up.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

// scriptParams reads the script's JSON parameters (argv[2]) and starts its
// clock: timeoutMs (default 30 s) bounds the whole run, and left() is what
// remains of it for the next step (at least 1 ms).
export function scriptParams() {
  const params = JSON.parse(process.argv[2] ?? "{}");
  const timeoutMs = params.timeoutMs ?? 30000;
  const deadline = Date.now() + timeoutMs;
  return { params, timeoutMs, left: () => Math.max(1, deadline - Date.now()) };
}

// withTimeout bounds a promise that has no timeout option of its own.
export function withTimeout(p, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms}ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// withChromium launches Chromium headless with a fresh --user-data-dir in
// the temp directory, runs fn(page), then closes Chromium (5 s at most)
// and removes the directory. Background networking, component updates,
// sync and QUIC are off; host names resolve per resolverRules (default:
// only 127.0.0.1), so the browser only talks to the server under test.
// timeoutMs bounds the launch.
export async function withChromium({ executablePath, timeoutMs, resolverRules }, fn) {
  const userDataDir = mkdtempSync(join(tmpdir(), "dynamicio-chromium-"));
  let context;
  try {
    // launchPersistentContext is how playwright takes a --user-data-dir.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      timeout: timeoutMs,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--host-resolver-rules=${resolverRules ?? "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"}`,
      ],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    return await fn(page);
  } finally {
    if (context) {
      await withTimeout(context.close(), 5000, "closing chromium").catch((e) => console.error(String(e)));
    }
    try {
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5 });
    } catch (e) {
      console.error(`removing ${userDataDir}: ${e}`);
    }
  }
}

// collectErrors pushes onto errors every console.error (with its source
// URL, a 404 for /favicon.ico excepted), every uncaught page error
// ("pageerror: …", also passed to onPageError), and every request to
// another origin than origin (ws: counted as http:).
export function collectErrors(page, errors, origin, onPageError = () => {}) {
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const url = msg.location()?.url ?? "";
    if (url.endsWith("/favicon.ico") || msg.text().includes("favicon.ico")) return;
    errors.push(url ? `${msg.text()} (${url})` : msg.text());
  });
  page.on("pageerror", (err) => {
    errors.push(`pageerror: ${err.message}`);
    onPageError(err);
  });
  page.on("request", (req) => {
    const u = new URL(req.url());
    if (/^(https?|wss?):$/.test(u.protocol) && u.origin.replace(/^ws/, "http") !== origin) {
      errors.push(`request off the server under test: ${req.url()}`);
    }
  });
}

// runScript runs main and prints result as one JSON line on stdout, always:
// when main ends (exit code 0 iff result.ok), when it throws (result.error,
// the stack on stderr), or at a hard stop 20 s after timeoutMs, whatever
// hangs (a launch, a close that never returns).
export function runScript(result, timeoutMs, main) {
  let printed = false;
  const finish = (code) => {
    if (printed) return;
    printed = true;
    // The line can be large: exit once it is flushed to the pipe. Exiting
    // makes playwright-core kill the browser's process group.
    process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(code));
  };
  setTimeout(() => {
    result.ok = false;
    result.error ??= `hard stop ${timeoutMs + 20000}ms after start`;
    finish(1);
  }, timeoutMs + 20000).unref();
  process.on("unhandledRejection", (err) => console.error(`unhandled rejection: ${err}`));
  main().then(
    () => finish(result.ok ? 0 : 1),
    (err) => {
      console.error(String(err?.stack ?? err));
      result.ok = false;
      result.error = String(err?.message ?? err);
      finish(1);
    },
  );
}
