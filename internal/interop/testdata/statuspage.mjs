// statuspage.mjs reads the status page (dynamicio's Config.PublicStatus) in
// headless Chromium the way a person would and reports what it shows; the
// Go test (internal/interop/statuspage_test.go) judges it.
//
// Usage: node statuspage.mjs '<json>'
//
//   {"url":"http://main.test:PORT/socket.io/status","chromium":"/usr/bin/chromium",
//    "timeoutMs":30000,"expand":"/chat","filter":"chat",
//    "waitSocketCount":"3","screenshot":"/optional/path.png"}
//
// Host names ending in .test resolve to 127.0.0.1 (so each virtual host has
// a URL of its own); every other name but 127.0.0.1 does not resolve.
// Steps: load the page; read its title, heading, summary and namespace
// rows; open the namespace whose full name is "expand" and read its socket
// and room tables; type "filter" into the filter box and count the rows
// left visible; then, with "waitSocketCount", wait until the page updated
// itself to show that many sockets and check that the opened namespace is
// still open and the filter still applied. It also reports whether any
// <img> exists and whether window.__pwned was set (markup smuggled in
// through names must show as text, never run).
//
// Output: one JSON line on stdout, always: {"ok":…, "title":…, "heading":…,
// "summary":…, "rows":[{"name","text","hidden"}], "sockets":[[cells]],
// "rooms":[[cells]], "visibleAfterFilter":n, "afterRefresh":{…}|null,
// "images":n, "pwned":bool, "consoleErrors":[], "error":…}.
// ok means every step ran and no console error occurred. Exit code 0 iff ok.

import { collectErrors, runScript, scriptParams, withChromium, withTimeout } from "./chromium.mjs";

const { params, timeoutMs, left } = scriptParams();

const result = {
  ok: false,
  title: null,
  heading: null,
  summary: null,
  rows: [],
  sockets: [],
  rooms: [],
  visibleAfterFilter: null,
  afterRefresh: null,
  images: null,
  pwned: null,
  consoleErrors: [],
  error: null,
};

// readTable returns the cells of a table's data rows as text.
const readTable = (sel) =>
  [...document.querySelectorAll(sel + " tr")]
    .filter((tr) => tr.querySelector("td"))
    .map((tr) => [...tr.querySelectorAll("td")].map((td) => td.innerText));

async function main() {
  if (!params.url || !params.chromium) throw new Error('"url" and "chromium" are required');
  const origin = new URL(params.url).origin;
  const resolverRules = "MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";
  await withChromium({ executablePath: params.chromium, timeoutMs: left(), resolverRules }, async (page) => {
    collectErrors(page, result.consoleErrors, origin);
    try {
      await page.goto(params.url, { timeout: left(), waitUntil: "load" });
      Object.assign(
        result,
        await page.evaluate(() => ({
          title: document.title,
          heading: document.querySelector("h1")?.innerText ?? null,
          summary: document.querySelector(".summary")?.innerText ?? null,
          rows: [...document.querySelectorAll("details.ns")].map((d) => ({
            name: d.querySelector("summary .name")?.innerText ?? null,
            text: d.querySelector("summary")?.innerText ?? null,
            hidden: d.hidden,
          })),
        })),
      );
      if (params.expand) {
        const id = "ns:" + params.expand;
        await page.locator(`[id="${id}"] > summary`).click({ timeout: left() });
        await page.waitForFunction((id) => document.getElementById(id)?.open, id, { timeout: left() });
        result.sockets = await page.evaluate(readTable, `[id="${id}"] table.sockets`);
        result.rooms = await page.evaluate(readTable, `[id="${id}"] table.rooms`);
      }
      if (params.filter) {
        await page.locator("#filter").fill(params.filter, { timeout: left() });
        result.visibleAfterFilter = await page.evaluate(
          () => [...document.querySelectorAll("details.ns")].filter((d) => !d.hidden).length,
        );
      }
      if (params.waitSocketCount) {
        await page.waitForFunction(
          (n) => document.getElementById("socket-count")?.innerText === n,
          params.waitSocketCount,
          { timeout: left(), polling: 200 },
        );
        result.afterRefresh = await page.evaluate((expand) => ({
          state: document.getElementById("state")?.innerText ?? null,
          summary: document.querySelector(".summary")?.innerText ?? null,
          stillOpen: expand ? !!document.getElementById("ns:" + expand)?.open : null,
          visible: [...document.querySelectorAll("details.ns")].filter((d) => !d.hidden).length,
        }), params.expand ?? null);
        if (params.expand) {
          result.sockets = await page.evaluate(readTable, `[id="ns:${params.expand}"] table.sockets`);
        }
      }
    } finally {
      const seen = await withTimeout(
        page.evaluate(() => ({ images: document.images.length, pwned: window.__pwned === 1 })),
        5000,
        "reading the page",
      ).catch((e) => {
        console.error(String(e));
        return null;
      });
      if (seen) Object.assign(result, seen);
      if (params.screenshot) {
        await page
          .screenshot({ path: params.screenshot, fullPage: true, timeout: 5000 })
          .catch((e) => console.error(`screenshot: ${e}`));
      }
    }
  });
  result.ok = result.consoleErrors.length === 0;
  if (!result.ok) result.error = "console errors";
}

runScript(result, timeoutMs, main);
