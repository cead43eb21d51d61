// Package httpcomp chooses and applies HTTP content codings (gzip and
// deflate) the way the official Node.js server does, for the engine's
// polling responses and the client bundle. Pure; no I/O beyond the buffers
// it is given.
package httpcomp
