// browser.mjs checks the cmd/dynamicio demo page in headless Chromium: the
// page must load the socket.io-client browser build from the server,
// connect to its room, upgrade to WebSocket, and show a chat message typed
// into its form coming back from the room, without console errors.
//
// Usage: node browser.mjs '<json>'
//
//   {"url":"http://127.0.0.1:PORT/","chromium":"/usr/bin/chromium",
//    "timeoutMs":30000,"screenshot":"/optional/path.png"}
//
// Chromium is the system one (executablePath), driven by playwright-core,
// which downloads nothing. It runs headless with a fresh --user-data-dir in
// the temp directory (removed afterwards) and with background networking,
// component updates, sync and QUIC off; host names other than 127.0.0.1 do
// not resolve, so the browser only talks to the server under test.
// timeoutMs bounds the launch and the page checks, each step getting what is
// left of it; reading the page, the screenshot and closing Chromium get 5 s
// each on top, and a hard stop ends the run 20 s after timeoutMs whatever
// hangs.
//
// Output: one JSON line on stdout, always (also on failure):
//   {"ok":true,"state":"open","transport":"websocket","chat":true,
//    "sid":"…","consoleErrors":[],"log":["…"],"error":null}
// consoleErrors holds console.error messages (with their source URL) and
// uncaught page errors ("pageerror: …"); a 404 for /favicon.ico is ignored.
// log is the page's log lines, newest first. ok requires state "open",
// transport "websocket", the chat line, and no console errors.
// Exit code 0 iff ok. Diagnostics go to stderr.

import { collectErrors, runScript, scriptParams, withChromium, withTimeout } from "./chromium.mjs";

const MESSAGE = "hello from chromium";

const { params, timeoutMs, left } = scriptParams();

const result = {
  ok: false,
  state: null,
  transport: null,
  chat: false,
  sid: null,
  consoleErrors: [],
  log: [],
  error: null,
};

async function main() {
  if (!params.url || !params.chromium) throw new Error('"url" and "chromium" are required');
  const origin = new URL(params.url).origin;
  await withChromium({ executablePath: params.chromium, timeoutMs: left() }, async (page) => {
    // A page error (like "eio.Socket is not a constructor") ends the run at
    // once instead of waiting for a state that will never come.
    let pageFailed;
    const pageFailure = new Promise((_, reject) => (pageFailed = reject));
    pageFailure.catch(() => {});
    collectErrors(page, result.consoleErrors, origin, (err) => pageFailed(new Error(`page error: ${err.message}`)));

    const step = (p) => {
      p.catch(() => {}); // it may still reject after losing the race
      return Promise.race([p, pageFailure]);
    };
    try {
      await step(page.goto(params.url, { timeout: left(), waitUntil: "load" }));
      await step(
        page.waitForFunction(
          () =>
            document.getElementById("state")?.textContent === "open" &&
            document.getElementById("transport")?.textContent === "websocket",
          null,
          { timeout: left() },
        ),
      );
      const input = page.locator("#msg");
      await step(input.click({ timeout: left() }));
      await step(input.pressSequentially(MESSAGE, { timeout: left() }));
      await step(input.press("Enter", { timeout: left() }));
      await step(
        page.waitForFunction(
          (want) =>
            [...document.querySelectorAll("#log > div")].some((d) => d.textContent.endsWith(want)),
          `me: ${MESSAGE}`,
          { timeout: left() },
        ),
      );
      result.chat = true;
    } finally {
      // What the page shows, also after a failure.
      const seen = await withTimeout(
        page.evaluate(() => ({
          state: document.getElementById("state")?.textContent ?? null,
          transport: document.getElementById("transport")?.textContent ?? null,
          log: [...document.querySelectorAll("#log > div")].slice(0, 50).map((d) => d.textContent),
        })),
        5000,
        "reading the page",
      ).catch((e) => {
        console.error(String(e));
        return null;
      });
      if (seen) {
        result.state = seen.state;
        result.transport = seen.transport;
        result.log = seen.log;
        const open = seen.log.map((l) => l.match(/connected, socket (\S+)$/)).find(Boolean);
        result.sid = open ? open[1] : null;
      }
      if (params.screenshot) {
        await page
          .screenshot({ path: params.screenshot, timeout: 5000 })
          .catch((e) => console.error(`screenshot: ${e}`));
      }
    }
  });
  result.ok =
    result.state === "open" &&
    result.transport === "websocket" &&
    result.chat &&
    result.consoleErrors.length === 0;
  if (!result.ok && !result.error) result.error = "the page did not pass the checks";
}

runScript(result, timeoutMs, main);
