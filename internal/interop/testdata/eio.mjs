// eio.mjs drives a real Engine.IO client (engine.io-client 6.x, or 3.5.x with
// "v3":true) against a server under test and reports what it observes.
//
// Usage: node eio.mjs '<json>'
//
//   {"url":"http://127.0.0.1:PORT","path":"/engine.io/","scenario":"echo",
//    "transports":["polling","websocket"],"upgrade":true,"v3":false,
//    "timeoutMs":10000, ...scenario params}
//
// Optional common params: "query" (object, extra query string),
// "clientOpts" (object merged last into the client options, e.g.
// {"perMessageDeflate":false}), "lingerMs" (default 200: the process stays
// this long after the done line so a queued close packet reaches the server).
//
// Output: one JSON object per line on stdout, in the order observed:
//   {"ev":"open","transport":"polling","sid":"…"}
//   {"ev":"upgrade","transport":"websocket"}
//   {"ev":"upgradeError","message":"…"}          (failed upgrade probe)
//   {"ev":"message","data":"hello"}               (text message)
//   {"ev":"message","binary":true,"base64":"…"}   (binary message)
//   {"ev":"close","reason":"…","description":"…"} (description "" if none)
//   {"ev":"error","message":"…"}
//   {"ev":"done","ok":true} | {"ev":"done","ok":false,"error":"…"}  (always last)
// Exit code 0 iff ok. Diagnostics (not part of the protocol) go to stderr.
// "description" flattens the client's close detail to a string: a transport
// error gives "<message>: <status>" (e.g. "xhr post error: 413"), a 6.x
// websocket close "websocket connection closed (code 1009)", 3.x mostly "".
// An echoed empty text message arrives as undefined from engine.io-parser and
// is reported as "".
//
// Scenarios (the server echoes every message unchanged unless stated):
//   echo             send params.messages (strings, or {"base64":"…"} for
//                    binary), await as many echoes (compared in order unless
//                    "verify":false), close from the client, done.
//   upgrade-order    polling+websocket with upgrade; send "m0".."m{count-1}"
//                    (count default 200) one per setTimeout(intervalMs,
//                    default 0) tick from open on;
//                    require every echo in order and an upgrade, then close.
//   wait-close       optionally send params.messages, then wait for the
//                    server to close us; done ok on close.
//   ping-no-pong     (6.x only) drop the client's pong packets; wait for the
//                    server to close us; ok on close after >=1 dropped pong.
//   oversize         send one text message of params.size "x" characters;
//                    wait for the close (errors logged); ok on close.
//   binary-roundtrip send Buffers of params.sizes bytes (byte i = i % 251),
//                    expect identical binary echoes in order, close, done.

const SCENARIOS = new Set([
  "echo",
  "upgrade-order",
  "wait-close",
  "ping-no-pong",
  "oversize",
  "binary-roundtrip",
]);

let finished = false;
let lingerMs = 200; // params.lingerMs

function emit(obj) {
  if (finished) return; // "done" is always the last line
  // Pipes are synchronous on Linux, so lines are never lost on exit.
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function diag(...args) {
  process.stderr.write("eio.mjs: " + args.join(" ") + "\n");
}

function done(ok, error) {
  if (finished) return;
  emit(ok ? { ev: "done", ok: true } : { ev: "done", ok: false, error: String(error) });
  finished = true;
  // Linger a moment so that a close packet / close frame the client just
  // queued reaches the server, then exit even if handles are still open.
  const code = ok ? 0 : 1;
  setTimeout(() => process.stdout.write("", () => process.exit(code)), lingerMs);
}

process.on("uncaughtException", (err) => done(false, "uncaught exception: " + (err && err.stack ? err.stack : err)));
process.on("unhandledRejection", (err) => done(false, "unhandled rejection: " + (err && err.stack ? err.stack : err)));

// describe turns the various close descriptions / error objects of both
// client generations into one plain string ("" when there is none).
function describe(d, depth = 0) {
  if (d === undefined || d === null) return "";
  if (depth > 3) return String(d);
  if (typeof d === "string") return d;
  if (typeof d === "number" || typeof d === "boolean") return String(d);
  if (d instanceof Error) {
    const extra = describe(d.description, depth + 1);
    return extra ? `${d.message}: ${extra}` : d.message;
  }
  if (typeof d === "object") {
    if ("description" in d) {
      // 6.x websocket close: {description, context: CloseEvent}; keep the code.
      const code = d.context && typeof d.context.code === "number" ? ` (code ${d.context.code})` : "";
      return describe(d.description, depth + 1) + code;
    }
    if (typeof d.message === "string") return d.message;
    if (d.error) return describe(d.error, depth + 1);
    try {
      return JSON.stringify(d);
    } catch {
      return String(d);
    }
  }
  return String(d);
}

function errorMessage(err) {
  if (err instanceof Error) return err.message;
  return describe(err);
}

function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

// Normalised payloads: {text: "…"} or {bin: Buffer}.
function fromParam(item) {
  if (typeof item === "string") return { text: item };
  if (item && typeof item === "object" && typeof item.base64 === "string") {
    return { bin: Buffer.from(item.base64, "base64") };
  }
  throw new Error("bad message param (want string or {base64}): " + JSON.stringify(item));
}

function sameMessage(a, b) {
  if ("text" in a) return "text" in b && a.text === b.text;
  return "bin" in b && a.bin.equals(b.bin);
}

function show(m) {
  if ("text" in m) return JSON.stringify(m.text.length > 64 ? m.text.slice(0, 64) + "…" : m.text);
  return `<binary ${m.bin.length} bytes>`;
}

function patterned(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

async function main() {
  let cfg;
  try {
    cfg = JSON.parse(process.argv[2] ?? "");
  } catch (e) {
    emit({ ev: "done", ok: false, error: "usage: node eio.mjs '<json>' (" + e.message + ")" });
    process.exit(2);
  }

  const timeoutMs = Number.isFinite(cfg.timeoutMs) && cfg.timeoutMs > 0 ? cfg.timeoutMs : 10000;
  // Hard deadline: whatever happens, the process ends with ok:false.
  // The timer stays referenced, so the event loop cannot drain before done().
  setTimeout(() => {
    let st;
    try {
      st = state();
    } catch {
      st = "not started";
    }
    done(false, `timeout after ${timeoutMs}ms (${st})`);
  }, timeoutMs);

  if (Number.isInteger(cfg.lingerMs) && cfg.lingerMs >= 0) lingerMs = Math.min(cfg.lingerMs, 5000);
  const scenario = cfg.scenario;
  const v3 = cfg.v3 === true;
  if (!SCENARIOS.has(scenario)) return done(false, `unknown scenario ${JSON.stringify(scenario)}`);
  if (typeof cfg.url !== "string") return done(false, "missing url");
  if (v3 && scenario === "ping-no-pong") {
    return done(false, "scenario ping-no-pong is not applicable to v3: engine.io-client 3.x sends the pings itself");
  }

  let transports = Array.isArray(cfg.transports) && cfg.transports.length ? cfg.transports : ["polling", "websocket"];
  let upgrade = cfg.upgrade !== false;
  if (scenario === "upgrade-order") {
    transports = ["polling", "websocket"];
    upgrade = true;
  }

  const opts = {
    path: cfg.path ?? "/engine.io/",
    transports,
    upgrade,
  };
  if (cfg.query && typeof cfg.query === "object") opts.query = { ...cfg.query };
  if (cfg.clientOpts && typeof cfg.clientOpts === "object") Object.assign(opts, cfg.clientOpts);

  let Socket;
  if (v3) {
    Socket = (await import("engine.io-client-v3")).default; // CommonJS: module.exports = Socket
  } else {
    Socket = (await import("engine.io-client")).Socket;
  }

  // Scenario state.
  let expected = []; // what we expect back, in order
  let received = []; // normalised messages received
  let sentCount = 0;
  let upgraded = false;
  let sentBeforeUpgrade = -1;
  let opened = false;
  let closed = false;
  let droppedPongs = 0;
  const verify = cfg.verify !== false;

  function state() {
    return `scenario=${scenario} opened=${opened} sent=${sentCount} received=${received.length}/${expected.length} upgraded=${upgraded} closed=${closed}`;
  }

  const socket = new Socket(cfg.url, opts);

  function send(m) {
    socket.send("text" in m ? m.text : m.bin);
    sentCount++;
  }

  // The echo-style scenarios finish by closing from the client once all
  // expected messages arrived (and, for upgrade-order, once upgraded).
  function maybeFinishEcho() {
    if (scenario !== "echo" && scenario !== "binary-roundtrip" && scenario !== "upgrade-order") return;
    if (received.length < expected.length) return;
    if (scenario === "upgrade-order" && !upgraded) return;
    if (socket.readyState === "open" || socket.readyState === "opening") socket.close();
  }

  socket.on("open", () => {
    opened = true;
    emit({ ev: "open", transport: socket.transport && socket.transport.name, sid: socket.id });
    switch (scenario) {
      case "echo":
      case "wait-close": {
        let msgs;
        try {
          msgs = (cfg.messages ?? []).map(fromParam);
        } catch (e) {
          return done(false, e.message);
        }
        if (scenario === "echo") expected = msgs;
        msgs.forEach(send);
        if (scenario === "echo") maybeFinishEcho();
        break;
      }
      case "binary-roundtrip": {
        const sizes = Array.isArray(cfg.sizes) ? cfg.sizes : [];
        expected = sizes.map((n) => ({ bin: patterned(n) }));
        expected.forEach(send);
        maybeFinishEcho();
        break;
      }
      case "upgrade-order": {
        const count = Number.isInteger(cfg.count) && cfg.count > 0 ? cfg.count : 200;
        const interval = Number.isInteger(cfg.intervalMs) && cfg.intervalMs >= 0 ? cfg.intervalMs : 0;
        expected = Array.from({ length: count }, (_, i) => ({ text: "m" + i }));
        let i = 0;
        // One message per timer tick so that some go before, during and
        // after the upgrade (setTimeout(0) is ~1ms in Node).
        const tick = () => {
          if (closed || finished || i >= count) return;
          send(expected[i++]);
          if (i < count) setTimeout(tick, interval);
        };
        tick();
        break;
      }
      case "ping-no-pong": {
        // engine.io-client 6.x answers a server "ping" with
        // this._sendPacket("pong") (socket.js, _onPacket). Drop those.
        const orig = socket._sendPacket;
        if (typeof orig !== "function") return done(false, "engine.io-client has no _sendPacket to intercept");
        socket._sendPacket = function (type, ...rest) {
          if (type === "pong") {
            droppedPongs++;
            diag(`dropped pong #${droppedPongs}`);
            return;
          }
          return orig.call(this, type, ...rest);
        };
        break;
      }
      case "oversize": {
        const size = Number.isInteger(cfg.size) && cfg.size >= 0 ? cfg.size : 0;
        send({ text: "x".repeat(size) });
        break;
      }
    }
  });

  socket.on("upgrade", (transport) => {
    upgraded = true;
    sentBeforeUpgrade = sentCount;
    emit({ ev: "upgrade", transport: transport && transport.name ? transport.name : socket.transport && socket.transport.name });
    diag(`upgraded after ${sentCount} sent, ${received.length} received`);
    maybeFinishEcho();
  });

  socket.on("upgradeError", (err) => {
    emit({ ev: "upgradeError", message: errorMessage(err) });
  });

  socket.on("message", (data) => {
    let m;
    // engine.io-parser decodes an empty message packet ("4") with no data
    // at all, so an echoed "" arrives as undefined: report it as "".
    if (data === undefined || data === null) data = "";
    if (typeof data === "string") {
      m = { text: data };
      emit({ ev: "message", data });
    } else {
      const b = toBuffer(data);
      if (!b) {
        emit({ ev: "error", message: "message of unexpected type " + typeof data });
        return;
      }
      m = { bin: b };
      emit({ ev: "message", binary: true, base64: b.toString("base64") });
    }
    const idx = received.length;
    received.push(m);
    if (scenario === "echo" || scenario === "binary-roundtrip" || scenario === "upgrade-order") {
      const strict = scenario !== "echo" || verify;
      if (idx >= expected.length) {
        if (strict) return done(false, `unexpected extra message #${idx}: ${show(m)}`);
      } else if (strict && !sameMessage(expected[idx], m)) {
        return done(false, `message #${idx} mismatch: sent ${show(expected[idx])}, got ${show(m)}`);
      }
      maybeFinishEcho();
    }
  });

  socket.on("error", (err) => {
    emit({ ev: "error", message: errorMessage(err) });
    diag("error detail:", describe(err));
  });

  socket.on("close", (reason, desc) => {
    closed = true;
    emit({ ev: "close", reason: String(reason), description: describe(desc) });
    if (!opened) return done(false, `closed (${reason}) before open`);
    switch (scenario) {
      case "echo":
      case "binary-roundtrip":
      case "upgrade-order":
        if (received.length < expected.length) {
          return done(false, `closed (${reason}) before all echoes: ${state()}`);
        }
        if (scenario === "upgrade-order") {
          if (!upgraded) return done(false, `closed (${reason}) without upgrade: ${state()}`);
          diag(`upgrade-order: ${sentBeforeUpgrade} of ${expected.length} sent before the upgrade`);
        }
        return done(true);
      case "ping-no-pong":
        if (droppedPongs < 1) return done(false, `closed (${reason}) before any pong was dropped`);
        return done(true);
      case "wait-close":
      case "oversize":
        return done(true);
    }
  });
}

main().catch((e) => done(false, "driver failure: " + (e && e.stack ? e.stack : e)));
