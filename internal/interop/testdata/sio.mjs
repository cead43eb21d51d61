// sio.mjs drives a real Socket.IO client (socket.io-client 4.8.x, or 2.5.x
// with "v2":true) through a script of steps against a server under test and
// reports what it observes.
//
// Usage: node sio.mjs '<json>'
//
//   {"url":"http://127.0.0.1:PORT","path":"/socket.io/","v2":false,
//    "msgpack":false,"transports":["polling","websocket"],"upgrade":true,
//    "timeoutMs":20000,"managerOpts":{…},"query":{…},"lingerMs":200,
//    "closeAtEnd":true,"steps":[…]}
//
// One Manager (one Engine.IO connection, reopened by the Manager when it
// reconnects) is shared by every namespace the script uses. "managerOpts" is
// merged last into the Manager options (e.g. {"reconnection":false},
// {"reconnectionDelay":100}); "query" is the Engine.IO handshake query.
// "timeoutMs" (default 20000) is a hard deadline for the whole run; every
// step also has its own "timeoutMs" (default 5000; for an emit that awaits an
// ack, default max(5000, ackTimeoutMs+1000)). "lingerMs" (default 200, max
// 5000): the process stays this long after the done line so that queued
// packets reach the server. "closeAtEnd" (default true): after the done line
// every socket is disconnected (DISCONNECT packets) and the Manager closed;
// these late events are not printed.
// "msgpack":true uses socket.io-msgpack-parser 3.x (4.x client only).
// "loopbackHosts":true resolves every host name of "url" to 127.0.0.1
// (an http.Agent with its own lookup), so a URL like
// http://other.test:PORT reaches the server under test with that Host
// header, over polling and WebSocket alike (browsers' XHR and Node's
// xmlhttprequest refuse a Host set through extraHeaders).
//
// Values: args, replies and auth are JSON; an object {"$binary":"<base64>"}
// anywhere inside args/replies (top level or nested) is sent as a Buffer, and
// every Buffer/ArrayBuffer/typed array received is printed the same way.
//
// Steps, run in order; "nsp" defaults to "/":
//   {"op":"connect","nsp":"/chat","auth":{…},"expectError":false}
//        creates the namespace socket (or reconnects a disconnected one) and
//        waits for its next connect or connect_error. connect_error fails the
//        script unless "expectError":true, and then connect fails it.
//   {"op":"emit","nsp":"/","event":"x","args":[…],"ack":false,
//    "ackTimeoutMs":2000,"expectTimeout":false,"await":true}
//        emits; with "ack":true uses socket.timeout(ackTimeoutMs).emit(…, cb)
//        (v2: a timer) and waits for the ack ("await":false: don't wait, the
//        ack/ack_timeout line still appears when it happens). An ack_timeout
//        fails the script unless "expectTimeout":true, and then an ack fails it.
//   {"op":"wait","nsp":"/","event":"y","count":1}
//        waits until count events named y have been received on the
//        namespace since the start of the run.
//   {"op":"sleep","ms":100}
//   {"op":"disconnect","nsp":"/"}          socket.disconnect() (client side).
//   {"op":"waitDisconnect","nsp":"/","reason":"…"}
//        waits for the namespace's next disconnect not caused by a
//        "disconnect" step (and not already consumed by a waitDisconnect or
//        waitReconnect); if "reason" is given it must match.
//   {"op":"closeEngine"}                   manager.engine.close(): the
//        Engine.IO connection drops ("forced close"); with reconnection on,
//        the Manager reconnects and the sockets connect again.
//   {"op":"waitReconnect","nsp":"/","expectRecovered":null}
//        waits for the namespace's first connect that follows a disconnect
//        after its last consumed connect; "expectRecovered" true/false checks
//        socket.recovered.
//   {"op":"ackNext","nsp":"/","event":"q","reply":[…]}
//        does not wait: the next server event q (on that nsp) that asks for an
//        ack is answered with ...reply. Several queue up in order. Events
//        asking for an ack with no ackNext queued are left unanswered.
//
// Output: one JSON object per line on stdout, in the order observed:
//   {"ev":"open","transport":"polling","sid":"…"}    Engine.IO connection open
//   {"ev":"upgrade","transport":"websocket","sid":"…"}
//   {"ev":"close","reason":"…"}                      Engine.IO connection closed
//   {"ev":"connect","nsp":"/chat","id":"…","recovered":false}
//   {"ev":"connect_error","nsp":"/chat","message":"…","data":…}  (data null if none)
//   {"ev":"event","nsp":"/","event":"y","args":[…]}   ("ack":true added when
//                                                     the server asked for an ack)
//   {"ev":"acked","nsp":"/","event":"q","args":[…]}   (we answered with args)
//   {"ev":"ack","nsp":"/","event":"x","args":[…]}
//   {"ev":"ack_timeout","nsp":"/","event":"x","message":"…"}
//   {"ev":"disconnect","nsp":"/","reason":"…"}       (every disconnect, local too)
//   {"ev":"error","nsp":"/","message":"…","data":…}  (v2: error packet on a
//                                                     connected socket)
//   {"ev":"step","i":3,"op":"wait"}                  only with "traceSteps":true
//   {"ev":"done","ok":true} | {"ev":"done","ok":false,"error":"…"}  (always last)
// Exit code 0 iff ok. Diagnostics (not part of the protocol) go to stderr.
//
// v2 ("v2":true: socket.io-client 2.5.x, protocol v4 over Engine.IO 3):
//  - there is no auth: "auth" of a connect step is sent as the namespace
//    query ("40/chat?k=v,"), which a socket.io 4 server with allowEIO3 hands
//    to middlewares as socket.handshake.auth (values become strings). The
//    root namespace sends no CONNECT in v2 (the server connects it by
//    itself), so the "auth" of the script's first "/" connect step is merged
//    into the Engine.IO handshake query instead (socket.handshake.query).
//  - if any step uses "/" the root socket is created with the Manager, before
//    the first step, so the server's implicit "/" CONNECT is not missed.
//  - a rejected connect arrives as an "error" packet whose data is
//    err.data || err.message: printed as connect_error with "message" =
//    that data if it is a string (else "") and "data" = it if it is not a
//    string (else null). Engine-level failures keep their message.
//  - ids of non-root namespaces look like "/chat#<sid>"; "recovered" is
//    always false; ack timeouts use a timer ("message":"operation has timed
//    out" like 4.x); "msgpack":true is refused.

const OPS = new Set(["connect", "emit", "wait", "sleep", "disconnect", "waitDisconnect", "closeEngine", "waitReconnect", "ackNext"]);

let finished = false;
let lingerMs = 200; // cfg.lingerMs
let atExit = () => {}; // set once the Manager exists (closeAtEnd)

function out(obj) {
  if (finished) return; // "done" is always the last line
  // Pipes are synchronous on Linux, so lines are never lost on exit.
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function diag(...args) {
  process.stderr.write("sio.mjs: " + args.join(" ") + "\n");
}

function done(ok, error) {
  if (finished) return;
  out(ok ? { ev: "done", ok: true } : { ev: "done", ok: false, error: String(error) });
  finished = true;
  try {
    atExit();
  } catch (e) {
    diag("close at end:", e && e.message);
  }
  const code = ok ? 0 : 1;
  setTimeout(() => process.stdout.write("", () => process.exit(code)), lingerMs);
}

process.on("uncaughtException", (err) => done(false, "uncaught exception: " + (err && err.stack ? err.stack : err)));
process.on("unhandledRejection", (err) => done(false, "unhandled rejection: " + (err && err.stack ? err.stack : err)));

// ---- value conversion -----------------------------------------------------

function isBinaryMarker(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v) && typeof v.$binary === "string" && Object.keys(v).length === 1;
}

// decode turns {"$binary":"…"} markers (anywhere) into Buffers.
function decode(v) {
  if (Array.isArray(v)) return v.map(decode);
  if (isBinaryMarker(v)) return Buffer.from(v.$binary, "base64");
  if (v !== null && typeof v === "object") {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = decode(x);
    return o;
  }
  return v;
}

// encode turns received values into JSON-safe ones, binaries as markers.
function encode(v, depth = 0) {
  if (depth > 64) return "<too deep>";
  if (v === undefined) return null;
  if (Buffer.isBuffer(v)) return { $binary: v.toString("base64") };
  if (v instanceof ArrayBuffer) return { $binary: Buffer.from(v).toString("base64") };
  if (ArrayBuffer.isView(v)) return { $binary: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  if (Array.isArray(v)) return v.map((x) => encode(x, depth + 1));
  if (typeof v === "function") return "<function>";
  if (v !== null && typeof v === "object") {
    if (typeof v.toJSON === "function") return v.toJSON();
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = encode(x, depth + 1);
    return o;
  }
  return v;
}

function errMessage(e) {
  if (e === undefined || e === null) return "";
  if (typeof e === "string") return e;
  if (e instanceof Error) return e.message;
  if (typeof e.message === "string") return e.message;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

// ---- waiting --------------------------------------------------------------

// Pending waits: each has a check() returning undefined (not yet) or a result.
const waits = new Set();

function notify() {
  for (const w of [...waits]) {
    let r;
    try {
      r = w.check();
    } catch (e) {
      waits.delete(w);
      clearTimeout(w.timer);
      w.reject(e);
      continue;
    }
    if (r !== undefined) {
      waits.delete(w);
      clearTimeout(w.timer);
      w.resolve(r);
    }
  }
}

function waitFor(check, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const r = check();
    if (r !== undefined) return resolve(r);
    const w = { check, resolve, reject };
    w.timer = setTimeout(() => {
      waits.delete(w);
      reject(new Error(`timed out after ${timeoutMs}ms waiting for ${what}`));
    }, timeoutMs);
    waits.add(w);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- main -----------------------------------------------------------------

async function main() {
  let cfg;
  try {
    cfg = JSON.parse(process.argv[2] ?? "");
    if (cfg === null || typeof cfg !== "object") throw new Error("not an object");
  } catch (e) {
    out({ ev: "done", ok: false, error: "usage: node sio.mjs '<json>' (" + e.message + ")" });
    process.exit(2);
  }

  const timeoutMs = Number.isFinite(cfg.timeoutMs) && cfg.timeoutMs > 0 ? cfg.timeoutMs : 20000;
  let current = "not started";
  // Hard deadline; the timer stays referenced so the loop cannot drain first.
  setTimeout(() => done(false, `timeout after ${timeoutMs}ms (${current})`), timeoutMs);
  if (Number.isInteger(cfg.lingerMs) && cfg.lingerMs >= 0) lingerMs = Math.min(cfg.lingerMs, 5000);

  const v2 = cfg.v2 === true;
  if (typeof cfg.url !== "string") return done(false, "missing url");
  if (v2 && cfg.msgpack === true) return done(false, "msgpack is not supported with v2 (socket.io-msgpack-parser 3.x speaks protocol v5)");
  const steps = Array.isArray(cfg.steps) ? cfg.steps : [];
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (!s || typeof s !== "object" || !OPS.has(s.op)) return done(false, `step ${i}: unknown op ${JSON.stringify(s && s.op)}`);
    if ((s.op === "emit" || s.op === "wait" || s.op === "ackNext") && typeof s.event !== "string") {
      return done(false, `step ${i} (${s.op}): missing event`);
    }
    if (s.nsp !== undefined && (typeof s.nsp !== "string" || !s.nsp.startsWith("/"))) {
      return done(false, `step ${i} (${s.op}): bad nsp ${JSON.stringify(s.nsp)}`);
    }
  }
  const nspOf = (s) => s.nsp ?? "/";

  const opts = {
    path: cfg.path ?? "/socket.io/",
    transports: Array.isArray(cfg.transports) && cfg.transports.length ? cfg.transports : ["polling", "websocket"],
    upgrade: cfg.upgrade !== false,
  };
  if (cfg.query && typeof cfg.query === "object") opts.query = { ...cfg.query };

  let ioV2 = null;
  let Manager;
  if (v2) {
    ioV2 = (await import("socket.io-client-v2")).default; // CommonJS: lookup(), .Manager
    Manager = ioV2.Manager;
    // The root namespace's auth can only travel in the handshake query.
    const rootConnect = steps.find((s) => s.op === "connect" && nspOf(s) === "/" && s.auth && typeof s.auth === "object");
    if (rootConnect) opts.query = { ...(opts.query || {}), ...rootConnect.auth };
  } else {
    Manager = (await import("socket.io-client")).Manager;
    if (cfg.msgpack === true) opts.parser = (await import("socket.io-msgpack-parser")).default;
  }
  if (cfg.loopbackHosts === true) {
    const { Agent } = await import("node:http");
    opts.agent = new Agent({
      lookup: (_host, o, cb) =>
        o && o.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4),
    });
  }
  if (cfg.managerOpts && typeof cfg.managerOpts === "object") Object.assign(opts, cfg.managerOpts);

  // Per-namespace state.
  const nsps = new Map();
  function ns(name) {
    let n = nsps.get(name);
    if (!n) {
      n = {
        name,
        socket: null,
        history: [], // {kind:"connect"|"connect_error"|"disconnect", …}
        connectCursor: 0, // history index from which connect/waitReconnect look
        discCursor: 0, // history index from which waitDisconnect looks
        counts: new Map(), // event name -> received count
        ackNext: new Map(), // event name -> [reply args arrays]
      };
      nsps.set(name, n);
    }
    return n;
  }
  const active = (s) => (v2 ? !!s.subs : s.active);

  const manager = new Manager(cfg.url, opts);
  atExit = () => {
    if (cfg.closeAtEnd === false) return;
    for (const n of nsps.values()) if (n.socket) n.socket.disconnect();
    if (v2) manager.close();
    else manager._close();
  };

  function onEngineOpen() {
    const engine = manager.engine;
    out({ ev: "open", transport: engine && engine.transport && engine.transport.name, sid: engine && engine.id });
    if (engine) {
      // sid: an engine that the Manager already gave up may still finish
      // an upgrade probe in flight (engine.io-client closes after it).
      engine.on("upgrade", (t) => out({ ev: "upgrade", transport: t && t.name ? t.name : engine.transport && engine.transport.name, sid: engine.id }));
    }
    notify();
  }
  manager.on("open", onEngineOpen);
  manager.on("close", (reason) => {
    out({ ev: "close", reason: String(reason) });
    notify();
  });
  // Engine.IO opens asynchronously, so these listeners are in time even
  // though the constructor already started opening (autoConnect).

  function record(n, entry) {
    n.history.push(entry);
    notify();
  }

  function onEvent(n, event, args) {
    let ackFn = null;
    if (args.length && typeof args[args.length - 1] === "function") {
      ackFn = args[args.length - 1];
      args = args.slice(0, -1);
    }
    const line = { ev: "event", nsp: n.name, event, args: encode(args) };
    if (ackFn) line.ack = true;
    out(line);
    n.counts.set(event, (n.counts.get(event) || 0) + 1);
    if (ackFn) {
      const q = n.ackNext.get(event);
      if (q && q.length) {
        const reply = q.shift();
        ackFn(...decode(reply));
        out({ ev: "acked", nsp: n.name, event, args: reply });
      }
    }
    notify();
  }

  function createSocket(n, auth) {
    let s;
    if (v2) {
      s = manager.socket(n.name, n.name !== "/" && auth && typeof auth === "object" ? { query: { ...auth } } : {});
      // 2.x has no onAny: take over event dispatch (this script registers no
      // ordinary event listeners, so nothing else is bypassed).
      s.onevent = function (packet) {
        const args = (packet.data || []).slice();
        if (packet.id != null) args.push(this.ack(packet.id));
        onEvent(n, args[0], args.slice(1));
      };
      s.on("error", (d) => {
        if (!s.connected) {
          const isStr = typeof d === "string";
          out({ ev: "connect_error", nsp: n.name, message: isStr ? d : "", data: isStr ? null : encode(d) });
          record(n, { kind: "connect_error", message: isStr ? d : errMessage(d) });
        } else {
          out({ ev: "error", nsp: n.name, message: errMessage(d), data: typeof d === "string" ? null : encode(d ?? null) });
        }
      });
      for (const name of ["connect_error", "connect_timeout"]) {
        s.on(name, (err) => {
          const message = name === "connect_timeout" ? "connect_timeout" : errMessage(err);
          out({ ev: "connect_error", nsp: n.name, message, data: null });
          record(n, { kind: "connect_error", message });
        });
      }
    } else {
      s = manager.socket(n.name, auth && typeof auth === "object" ? { auth } : {});
      s.onAny((event, ...args) => onEvent(n, event, args));
      s.on("connect_error", (err) => {
        const data = err && err.data !== undefined ? encode(err.data) : null;
        out({ ev: "connect_error", nsp: n.name, message: errMessage(err), data });
        record(n, { kind: "connect_error", message: errMessage(err) });
      });
    }
    s.on("connect", () => {
      const recovered = !v2 && s.recovered === true;
      out({ ev: "connect", nsp: n.name, id: s.id, recovered });
      record(n, { kind: "connect", id: s.id, recovered });
    });
    s.on("disconnect", (reason) => {
      out({ ev: "disconnect", nsp: n.name, reason: String(reason) });
      record(n, { kind: "disconnect", reason: String(reason) });
    });
    n.socket = s;
    if (!active(s)) s.connect(); // managerOpts.autoConnect:false
    return s;
  }

  // v2: the server connects "/" by itself; be listening before it does.
  if (v2 && steps.some((s) => nspOf(s) === "/" && s.op !== "sleep" && s.op !== "closeEngine")) {
    const rootConnect = steps.find((s) => s.op === "connect" && nspOf(s) === "/");
    createSocket(ns("/"), rootConnect && rootConnect.auth);
  }

  function needSocket(n, i, op) {
    if (!n.socket) throw new Error(`step ${i} (${op}): namespace ${n.name} has no socket (connect it first)`);
    return n.socket;
  }

  async function runStep(s, i) {
    const op = s.op;
    const n = op === "sleep" || op === "closeEngine" ? null : ns(nspOf(s));
    const stepTimeout = (dflt) => (Number.isFinite(s.timeoutMs) && s.timeoutMs > 0 ? s.timeoutMs : dflt);
    switch (op) {
      case "connect": {
        if (!n.socket) {
          createSocket(n, s.auth);
        } else if (!n.socket.connected) {
          const sock = n.socket;
          if (s.auth && typeof s.auth === "object") {
            if (v2) sock.query = { ...s.auth };
            else sock.auth = s.auth;
          }
          if (!active(sock)) sock.connect();
          else if (v2 && n.name !== "/" && manager.readyState === "open") sock.onopen(); // re-send CONNECT after an error packet
        }
        const r = await waitFor(
          () => {
            for (let j = n.connectCursor; j < n.history.length; j++) {
              const h = n.history[j];
              if (h.kind === "connect" || h.kind === "connect_error") {
                n.connectCursor = j + 1;
                return h;
              }
            }
            return undefined;
          },
          stepTimeout(5000),
          `connect on ${n.name}`,
        );
        if (r.kind === "connect" && s.expectError === true) throw new Error(`step ${i} (connect ${n.name}): expected connect_error, got connect`);
        if (r.kind === "connect_error" && s.expectError !== true) throw new Error(`step ${i} (connect ${n.name}): connect_error: ${r.message}`);
        return;
      }
      case "emit": {
        const sock = needSocket(n, i, op);
        const args = decode(Array.isArray(s.args) ? s.args : []);
        if (s.ack !== true) {
          sock.emit(s.event, ...args);
          return;
        }
        const ackTimeoutMs = Number.isFinite(s.ackTimeoutMs) && s.ackTimeoutMs > 0 ? s.ackTimeoutMs : 2000;
        const result = new Promise((resolve) => {
          const onAck = (resp) => {
            out({ ev: "ack", nsp: n.name, event: s.event, args: encode(resp) });
            resolve({ kind: "ack" });
          };
          const onTimeout = (err) => {
            out({ ev: "ack_timeout", nsp: n.name, event: s.event, message: errMessage(err) });
            resolve({ kind: "ack_timeout", message: errMessage(err) });
          };
          if (v2) {
            let settled = false;
            const t = setTimeout(() => {
              if (settled) return;
              settled = true;
              // Forget the callback so that a late ack is ignored, like 4.x.
              for (const [id, fn] of Object.entries(sock.acks)) if (fn === cb) delete sock.acks[id];
              onTimeout(new Error("operation has timed out"));
            }, ackTimeoutMs);
            const cb = (...resp) => {
              if (settled) return;
              settled = true;
              clearTimeout(t);
              onAck(resp);
            };
            sock.emit(s.event, ...args, cb);
          } else {
            sock.timeout(ackTimeoutMs).emit(s.event, ...args, (err, ...resp) => (err ? onTimeout(err) : onAck(resp)));
          }
        });
        if (s.await === false) return;
        const r = await Promise.race([
          result,
          sleep(stepTimeout(Math.max(5000, ackTimeoutMs + 1000))).then(() => {
            throw new Error(`step ${i} (emit ${s.event} on ${n.name}): no ack nor ack timeout in time`);
          }),
        ]);
        if (r.kind === "ack_timeout" && s.expectTimeout !== true) throw new Error(`step ${i} (emit ${s.event} on ${n.name}): ack_timeout: ${r.message}`);
        if (r.kind === "ack" && s.expectTimeout === true) throw new Error(`step ${i} (emit ${s.event} on ${n.name}): expected ack_timeout, got ack`);
        return;
      }
      case "wait": {
        const count = Number.isInteger(s.count) && s.count > 0 ? s.count : 1;
        await waitFor(() => ((n.counts.get(s.event) || 0) >= count ? true : undefined), stepTimeout(5000), `${count}x "${s.event}" on ${n.name} (have ${n.counts.get(s.event) || 0})`);
        return;
      }
      case "sleep": {
        const ms = Number.isFinite(s.ms) && s.ms >= 0 ? s.ms : 0;
        await sleep(ms);
        return;
      }
      case "disconnect": {
        const sock = needSocket(n, i, op);
        sock.disconnect(); // fires "disconnect" ("io client disconnect") synchronously if connected
        n.discCursor = n.history.length;
        return;
      }
      case "waitDisconnect": {
        const r = await waitFor(
          () => {
            for (let j = n.discCursor; j < n.history.length; j++) {
              if (n.history[j].kind === "disconnect") {
                n.discCursor = j + 1;
                return n.history[j];
              }
            }
            return undefined;
          },
          stepTimeout(5000),
          `disconnect on ${n.name}`,
        );
        if (typeof s.reason === "string" && r.reason !== s.reason) throw new Error(`step ${i} (waitDisconnect ${n.name}): reason ${JSON.stringify(r.reason)}, want ${JSON.stringify(s.reason)}`);
        return;
      }
      case "closeEngine": {
        if (!manager.engine) throw new Error(`step ${i} (closeEngine): no engine`);
        manager.engine.close();
        return;
      }
      case "waitReconnect": {
        needSocket(n, i, op);
        const r = await waitFor(
          () => {
            let d = -1;
            for (let j = n.connectCursor; j < n.history.length; j++) {
              const h = n.history[j];
              if (d < 0 && h.kind === "disconnect") d = j;
              else if (d >= 0 && h.kind === "connect") {
                n.connectCursor = j + 1;
                n.discCursor = Math.max(n.discCursor, d + 1);
                return h;
              }
            }
            return undefined;
          },
          stepTimeout(5000),
          `reconnect on ${n.name}`,
        );
        if (typeof s.expectRecovered === "boolean" && r.recovered !== s.expectRecovered) {
          throw new Error(`step ${i} (waitReconnect ${n.name}): recovered=${r.recovered}, want ${s.expectRecovered}`);
        }
        return;
      }
      case "ackNext": {
        const reply = Array.isArray(s.reply) ? s.reply : [];
        if (!n.ackNext.has(s.event)) n.ackNext.set(s.event, []);
        n.ackNext.get(s.event).push(reply);
        return;
      }
    }
  }

  for (let i = 0; i < steps.length; i++) {
    if (finished) return;
    const s = steps[i];
    current = `step ${i} (${s.op}${s.nsp ? " " + s.nsp : ""}${s.event ? " " + s.event : ""})`;
    if (cfg.traceSteps === true) out({ ev: "step", i, op: s.op });
    try {
      await runStep(s, i);
    } catch (e) {
      return done(false, e && e.message && e.message.startsWith("step ") ? e.message : `${current}: ${e && e.message ? e.message : e}`);
    }
  }
  done(true);
}

main().catch((e) => done(false, "driver failure: " + (e && e.stack ? e.stack : e)));
