// Command dynamicio-bench runs the side-by-side benchmark: the same load
// generator (bench/loadgen) against this repository's server
// (bench/server/dynamicio), Node's socket.io 4.8 on its default engine and
// on uWebSockets.js (bench/node), and a plain-WebSocket Go reference
// (bench/server/rawws), one server at a time, in one run.
//
//	make bench                   # builds, npm ci, full run, ~15 minutes
//	make bench-smoke             # a few seconds per server
//	dynamicio-bench -scenarios echo,broadcast-1000 -reps 1 -cpuprofile-dir /tmp/prof
//	dynamicio-bench -scenarios broadcast-1000-100B -ramp-step 6s   # steadier steps
//	dynamicio-bench -servers ours,ours-again,node-uws -scenarios slow   # A/A: noise alone
//
// Each server under test runs pinned to cpu 1 (taskset -c 1, GOMAXPROCS=1
// for Go) and this program re-executes itself pinned to cpu 0, so client
// and server never share a core (without taskset both run unpinned, and the
// report says so). For every scenario and repetition a fresh server process
// is started; its CPU time (utime+stime from /proc/PID/stat) over the
// measuring window and its VmRSS (/proc/PID/status) are what the tables
// report, divided by the deliveries the clients counted.
//
// Servers take turns within a repetition, in an order that rotates between
// repetitions, so a change in machine load is spread over all of them; the
// tables show medians. The report (results.md, results.json, results.png)
// goes to -out with the machine's description, its load average and the
// CPU the machine's other tasks took meanwhile (interference: at p99 over
// a short window, a few milliseconds of it are the tail). The server
// ours-again, our binary under a second name, gives a column ours ÷
// ours-again: how far noise alone moves a ratio.
//
// All traffic goes to 127.0.0.1 from rotating source addresses
// 127.0.0.2–51; connection counts stay under the 20,000 open files a
// process may have here, and every scenario runs under a deadline.
package main
