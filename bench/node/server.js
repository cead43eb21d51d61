// The Node servers under test in the side-by-side benchmark
// (cmd/dynamicio-bench): socket.io 4.8 on its default engine ("ws") or
// attached to uWebSockets.js ("uws"), with the benchmark's handler contract
// (see bench/server/dynamicio/doc.go), default options and no logging.
//
//   node server.js ws|uws [port]
//
// Prints "listening 127.0.0.1:PORT" once it accepts connections.
//
// uWebSockets.js comes from the republished build
// @trufflesuite/uws-js-unofficial, whose entry point silently falls back to a
// JavaScript emulation when its native binary does not load. This file loads
// the native binary itself and exits non-zero when it cannot, so numbers
// labelled uWS are always the native ones.
"use strict";

const path = require("path");
const { Server } = require("socket.io");

const mode = process.argv[2];
const port = Number(process.argv[3] || 0);
const host = "127.0.0.1";

function contract(io) {
  io.on("connection", (socket) => {
    socket.on("echo", (data, ack) => {
      if (typeof ack === "function") ack(data);
    });
    socket.on("all", (data) => {
      io.emit("all", data);
    });
    socket.on("join", (room, ack) => {
      socket.join(room);
      if (typeof ack === "function") ack(true);
    });
    socket.on("room", (room, data) => {
      socket.to(room).emit("room", data);
    });
  });
}

function loadNativeUWS() {
  const pkg = require.resolve("@trufflesuite/uws-js-unofficial/package.json");
  const bin = path.join(
    path.dirname(pkg),
    "binaries",
    `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`,
  );
  let uWS;
  try {
    uWS = require(bin);
  } catch (e) {
    console.error(`FATAL: the native uWebSockets.js binary did not load (${bin}): ${e.message}`);
    process.exit(3);
  }
  // The package entry must resolve to that very binary, not its fallback.
  const viaPackage = require("@trufflesuite/uws-js-unofficial");
  if (viaPackage !== uWS || !/\[native code\]/.test(Function.prototype.toString.call(uWS.App))) {
    console.error("FATAL: @trufflesuite/uws-js-unofficial is running its JavaScript fallback, not uWebSockets.js");
    process.exit(3);
  }
  return uWS;
}

if (mode === "ws") {
  const http = require("http");
  const httpServer = http.createServer();
  const io = new Server(httpServer, { serveClient: false });
  contract(io);
  httpServer.listen(port, host, () => {
    console.log(`listening ${host}:${httpServer.address().port}`);
  });
} else if (mode === "uws") {
  const uWS = loadNativeUWS();
  const app = uWS.App();
  const io = new Server({ serveClient: false });
  io.attachApp(app);
  contract(io);
  app.listen(host, port, (token) => {
    if (!token) {
      console.error("FATAL: uWS could not listen");
      process.exit(1);
    }
    console.log(`listening ${host}:${uWS.us_socket_local_port(token)}`);
  });
} else {
  console.error("usage: node server.js ws|uws [port]");
  process.exit(2);
}

for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
