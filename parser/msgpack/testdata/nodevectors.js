// Generator of the expected bytes in vectors_test.go. Not run by go test.
//
//   mkdir /tmp/mp && cd /tmp/mp && npm init -y && npm i socket.io-msgpack-parser@3.0.2
//   cp <this file> /tmp/mp/ && node nodevectors.js
//
// It prints the hex encodings of fixed packets by socket.io-msgpack-parser
// 3.0.2 (notepack.io 2.2.0, Node 20), and for the decode vectors (what
// clients send) the fields the official Decoder yields, with binaries
// replaced by placeholders in depth-first order as the Go decoder does.
const parser = require("socket.io-msgpack-parser");
const notepack = require("notepack.io");
const enc = new parser.Encoder();
const hex = (b) => Buffer.from(b).toString("hex");

function toModel(v, atts) { // JS value -> JSON with placeholders, depth-first
  if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    atts.push(hex(Buffer.isBuffer(v) ? v : v instanceof ArrayBuffer ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength)));
    return { _placeholder: true, num: atts.length - 1 };
  }
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : toModel(x, atts)));
  if (v instanceof Date) return v.toJSON();
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) if (v[k] !== undefined) o[k] = toModel(v[k], atts);
    return o;
  }
  return v;
}

const encodeVectors = {
  connect: { type: 0, data: { sid: "oSO0OpakMV_3jnilAAAA" }, nsp: "/" },
  connectPid: { type: 0, data: { sid: "s1", pid: "p1" }, nsp: "/admin" },
  connectV3: { type: 0, nsp: "/" },
  event: { type: 2, data: ["hello", "you"], nsp: "/" },
  eventAckBroadcast: { type: 2, data: ["bar", 1], nsp: "/admin", id: 13 },
  ack: { id: 13, type: 3, data: ["bar"], nsp: "/admin" },
  ackEmpty: { id: 0, type: 3, data: [], nsp: "/" },
  connectError: { type: 4, data: { message: "Not authorized" }, nsp: "/" },
  connectErrorData: { type: 4, data: { message: "m", data: { code: 42 } }, nsp: "/x" },
  disconnect: { type: 1, nsp: "/chat" },
  binary: { type: 2, data: ["baz", Buffer.from([1, 2, 3]), { a: { b: Buffer.alloc(0) } }, [Buffer.from("xy")]], nsp: "/" },
  bin256: { id: 70000, type: 3, data: [Buffer.alloc(256, 7)], nsp: "/" },
  numbers: { type: 2, data: ["n", 0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, 1.5, -0.25, 9007199254740991, -9007199254740991, 0.1, 1e-7, 18446744073709549568, -9223372036854775808], nsp: "/" },
  strings: { type: 2, data: ["s", "a".repeat(31), "b".repeat(32), "c".repeat(255), "d".repeat(256), "héllo ✓ 😀", "", 'q"b\\s\nn\u0001\u001f/'], nsp: "/" },
  nested: { type: 2, data: ["obj", { x: [1, { y: null, z: true, w: false }], "": "empty", "k\"ey": 2 }], nsp: "/" },
  big: { type: 2, data: ["big", Array.from({ length: 16 }, (_, i) => i), Object.fromEntries(Array.from({ length: 16 }, (_, i) => ["k" + i, i]))], nsp: "/" },
  chat: { type: 2, data: ["chat", { user: "a", text: "hello" }], nsp: "/" },
};

const decodeVectors = {
  clientConnect: { type: 0, data: undefined, nsp: "/" },
  clientConnectAuth: { type: 0, data: { token: "abc", pid: "p", offset: "o" }, nsp: "/admin" },
  clientEmit: { type: 2, data: ["chat", { user: "a", text: "hello" }], options: { compress: true }, nsp: "/" },
  clientEmitAck: { type: 2, data: ["q"], options: { compress: true }, id: 0, nsp: "/" },
  clientAck: { type: 3, id: 5, data: ["ok", null], nsp: "/" },
  clientBinary: { type: 2, data: ["up", Buffer.from([1, 2]), new Uint8Array([3, 4]), new ArrayBuffer(1), new ArrayBuffer(0)], options: { compress: true }, nsp: "/" },
  clientDate: { type: 2, data: ["when", new Date(0), new Date(1700000000123), new Date(-62198755200000), new Date(253402300800000)], nsp: "/" },
  clientUndefined: { type: 2, data: ["u", undefined, { a: undefined, b: 1 }], nsp: "/" },
  clientDisconnect: { type: 1, nsp: "/chat" },
  clientDisconnectUndefined: { type: 1, data: undefined, nsp: "/chat" },
};

const out = { encode: {}, decode: {} };
for (const [k, p] of Object.entries(encodeVectors)) {
  const [b] = enc.encode(p);
  out.encode[k] = hex(b);
}
for (const [k, p] of Object.entries(decodeVectors)) {
  const [b] = enc.encode(p);
  // check the official decoder accepts it and compute the model
  const d = new parser.Decoder();
  let got;
  d.on("decoded", (x) => (got = x));
  d.add(b);
  const atts = [];
  const data = got.data === undefined ? null : JSON.stringify(toModel(got.data, atts));
  out.decode[k] = { hex: hex(b), type: got.type, nsp: got.nsp, id: got.id, data, atts };
}
// browser build of notepack
const benc = require("notepack.io/browser/encode");
out.browserConnect = hex(benc({ type: 0, data: undefined, nsp: "/" }));
out.garbage = [1e21, 1e300].map((v) => hex(notepack.encode(v)));
console.log(JSON.stringify(out, null, 1));
