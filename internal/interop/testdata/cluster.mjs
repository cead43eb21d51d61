// cluster.mjs runs a Node socket.io 4.8 server with @socket.io/redis-adapter
// 8 next to a Go server that uses the same Redis (adapter/redisadapter),
// puts socket.io-client 4.8 clients on both, and checks every cross-node
// operation in both directions, then the @socket.io/redis-emitter case.
//
// Usage: node cluster.mjs '{"redis":"redis://127.0.0.1:P","go":"http://127.0.0.1:P","timeoutMs":60000,"sharded":false}'
//
// "sharded": true uses createShardedAdapter (Redis 7 sharded pub/sub) and
// leaves out allRooms and the emitter, which that protocol lacks.
//
// The Go server (internal/interop/cluster_test.go) answers these events
// from its clients by acting through its own adapter: join, bcast, sjoin,
// sleave, fetch, sse, allrooms, count, ackbcast, disc, myrooms,
// emittercount; its server-side "hello" handler answers "hi <who> from go".
//
// Output: one JSON line per check, {"ev":"step","event":NAME,"ok":BOOL,
// "error":…,"data":…}, then {"ev":"done","ok":BOOL}. Exit code 0 when all
// passed.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { io as ioc } from "socket.io-client";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";

const params = JSON.parse(process.argv[2] || "{}");
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
let failed = false;
setTimeout(() => {
  out({ ev: "done", ok: false, error: "timeout" });
  process.exit(1);
}, params.timeoutMs || 60000).unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const within = (p, ms, what) =>
  Promise.race([p, sleep(ms).then(() => { throw new Error("timeout: " + what); })]);

async function step(name, fn) {
  try {
    const data = await within(fn(), 10000, name);
    out({ ev: "step", event: name, ok: true, data: data ?? null });
  } catch (e) {
    failed = true;
    out({ ev: "step", event: name, ok: false, error: String(e && e.stack || e) });
  }
}

// next resolves with the arguments of the next `ev` on socket s.
const next = (s, ev) => new Promise((resolve) => s.once(ev, (...args) => resolve(args)));
// until polls cond every 20 ms.
async function until(cond, what) {
  for (let i = 0; i < 400; i++) {
    if (await cond()) return;
    await sleep(20);
  }
  throw new Error("never: " + what);
}
const eq = (a, b, what) => {
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${what}: got ${JSON.stringify(a)}, want ${JSON.stringify(b)}`);
};

const pub = createClient({ url: params.redis });
const sub = pub.duplicate();
const emitterClient = pub.duplicate();
await Promise.all([pub.connect(), sub.connect(), emitterClient.connect()]);

const http = createServer();
const io = new Server(http, {
  adapter: params.sharded ? createShardedAdapter(pub, sub) : createAdapter(pub, sub, { requestsTimeout: 3000 }),
});
io.on("connection", (s) => {
  s.on("join", (room, cb) => { s.join(room); cb(true); });
});
io.on("hello", (who, cb) => cb("hi " + who + " from node"));
await new Promise((r) => http.listen(0, "127.0.0.1", r));
const nodeURL = `http://127.0.0.1:${http.address().port}`;

function client(url, name) {
  const c = ioc(url, { transports: ["websocket"], forceNew: true, reconnection: false });
  c.on("q", (cb) => cb("a-" + name));
  return c;
}
const onNode = client(nodeURL, "node");
const onGo = client(params.go, "go");
await Promise.all([next(onNode, "connect"), next(onGo, "connect")]);
const ask = (ev, ...args) => onGo.timeout(8000).emitWithAck(ev, ...args);

// Both servers see each other before anything is published.
await step("serverCount", async () => {
  await until(async () => (await io.of("/").adapter.serverCount()) === 2, "node sees 2 servers");
  eq(await ask("count"), 2, "go's server count");
});
await step("rooms set up", async () => {
  await onGo.emitWithAck("join", "room-go");
  await onNode.emitWithAck("join", "room-node");
});

await step("broadcast node→go", async () => {
  const got = next(onGo, "n2g");
  io.emit("n2g", 1, "x");
  eq(await got, [1, "x"], "n2g");
});
await step("broadcast go→node", async () => {
  const got = next(onNode, "g2n");
  await ask("bcast", "", "g2n", 2);
  eq(await got, [2], "g2n");
});
await step("room broadcast node→go", async () => {
  const got = next(onGo, "room-n2g");
  io.to("room-go").emit("room-n2g", "r");
  eq(await got, ["r"], "room-n2g");
});
await step("room broadcast go→node", async () => {
  const got = next(onNode, "room-g2n");
  await ask("bcast", "room-node", "room-g2n", "r");
  eq(await got, ["r"], "room-g2n");
});
await step("except node→go", async () => {
  // The go client must skip "ex" (it is in room-go) and get "marker" first.
  const seen = [];
  const rec = (ev) => (...a) => seen.push(ev);
  onGo.on("ex", rec("ex"));
  const marker = next(onGo, "marker");
  io.except("room-go").emit("ex");
  io.emit("marker");
  await marker;
  onGo.off("ex");
  eq(seen, [], "events before the marker");
});
await step("binary node→go", async () => {
  // The Node client gets its copy too; wait for it, or it could be taken
  // for the next step's (the sharded adapter delivers locally after it
  // has published).
  const got = next(onGo, "bin");
  const local = next(onNode, "bin");
  io.emit("bin", Buffer.from([1, 2, 3]));
  const [b] = await got;
  eq([...new Uint8Array(b)], [1, 2, 3], "bytes");
  await local;
});
await step("binary go→node", async () => {
  const got = next(onNode, "bin");
  await ask("bcast", "", "bin", "$bytes");
  const [b] = await got;
  eq([...new Uint8Array(b)], [7, 8, 9], "bytes");
});

await step("socketsJoin node→go", async () => {
  await io.in(onGo.id).socketsJoin("nj");
  await until(async () => (await ask("myrooms")).includes("nj"), "go socket in nj");
});
await step("socketsLeave node→go", async () => {
  await io.in(onGo.id).socketsLeave("nj");
  await until(async () => !(await ask("myrooms")).includes("nj"), "go socket out of nj");
});
await step("socketsJoin go→node", async () => {
  await ask("sjoin", onNode.id, "gj");
  await until(() => io.of("/").adapter.rooms.get("gj")?.has(onNode.id), "node socket in gj");
});
await step("socketsLeave go→node", async () => {
  await ask("sleave", onNode.id, "gj");
  await until(() => !io.of("/").adapter.rooms.get("gj"), "node socket out of gj");
});

await step("fetchSockets node→go", async () => {
  const socks = await io.in("room-go").fetchSockets();
  eq(socks.map((s) => s.id), [onGo.id], "ids");
  const s = socks[0];
  if (!s.rooms.has("room-go") || typeof s.handshake.issued !== "number" || !s.handshake.url.startsWith("/socket.io/")) {
    throw new Error("remote socket: " + JSON.stringify({ rooms: [...s.rooms], hs: s.handshake }));
  }
  const all = (await io.fetchSockets()).map((s) => s.id).sort();
  eq(all, [onGo.id, onNode.id].sort(), "all ids");
});
await step("fetchSockets go→node", async () => {
  const ids = (await ask("fetch")).sort();
  eq(ids, [onGo.id, onNode.id].sort(), "ids");
});
await step("remote socket emit node→go", async () => {
  const [s] = await io.in(onGo.id).fetchSockets();
  const got = next(onGo, "direct");
  s.emit("direct", "hi");
  eq(await got, ["hi"], "direct");
});

await step("serverSideEmit node→go", async () => {
  const replies = await io.serverSideEmitWithAck("hello", "node");
  eq(replies, ["hi node from go"], "replies");
});
await step("serverSideEmit go→node", async () => {
  eq(await ask("sse"), ["hi go from node"], "replies");
});

// The sharded adapter has no allRooms request, and the emitter speaks only
// the classic protocol.
if (!params.sharded) {
await step("allRooms node→go", async () => {
  const rooms = await io.of("/").adapter.allRooms();
  for (const r of ["room-go", "room-node", onGo.id, onNode.id]) {
    if (!rooms.has(r)) throw new Error("missing " + r + " in " + JSON.stringify([...rooms]));
  }
});
await step("allRooms go→node", async () => {
  const rooms = await ask("allrooms");
  for (const r of ["room-go", "room-node", onGo.id, onNode.id]) {
    if (!rooms.includes(r)) throw new Error("missing " + r + " in " + JSON.stringify(rooms));
  }
});

}

await step("broadcast with acks node→go", async () => {
  const replies = await io.timeout(5000).emitWithAck("q");
  eq(replies.sort(), ["a-go", "a-node"], "acks");
});
await step("broadcast with acks go→node", async () => {
  eq((await ask("ackbcast")).sort(), ["a-go", "a-node"], "acks");
});

// The emitter publishes like a server with uid "emitter".
const emitter = new Emitter(emitterClient);
if (!params.sharded) {
await step("emitter broadcast", async () => {
  const got = next(onGo, "from-emitter");
  emitter.emit("from-emitter", 1, { a: "b" });
  eq(await got, [1, { a: "b" }], "from-emitter");
});
await step("emitter room broadcast", async () => {
  const got = next(onGo, "emitter-room");
  emitter.to("room-go").emit("emitter-room", Buffer.from([5]));
  const [b] = await got;
  eq([...new Uint8Array(b)], [5], "bytes");
});
await step("emitter socketsJoin", async () => {
  emitter.in(onGo.id).socketsJoin("ej");
  await until(async () => (await ask("myrooms")).includes("ej"), "go socket in ej");
  emitter.in("ej").socketsLeave("ej");
  await until(async () => !(await ask("myrooms")).includes("ej"), "go socket out of ej");
});
await step("emitter serverSideEmit", async () => {
  emitter.serverSideEmit("from-emitter", "x");
  await until(async () => (await ask("emittercount")) >= 1, "go got the server-side event");
});

}

// Disconnections last: they end the clients.
await step("disconnectSockets go→node", async () => {
  const got = next(onNode, "disconnect");
  await ask("disc", onNode.id);
  const [reason] = await got;
  eq(reason, "io server disconnect", "reason");
});
await step("disconnectSockets node→go", async () => {
  const got = next(onGo, "disconnect");
  io.in(onGo.id).disconnectSockets();
  const [reason] = await got;
  eq(reason, "io server disconnect", "reason");
});
if (!params.sharded) await step("emitter disconnectSockets", async () => {
  const third = client(params.go, "third");
  await next(third, "connect");
  const got = next(third, "disconnect");
  emitter.in(third.id).disconnectSockets();
  const [reason] = await got;
  eq(reason, "io server disconnect", "reason");
});

out({ ev: "done", ok: !failed });
onNode.close();
onGo.close();
io.close();
await Promise.allSettled([pub.quit(), sub.quit(), emitterClient.quit()]);
process.exit(failed ? 1 : 0);
