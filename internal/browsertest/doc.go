// Package browsertest runs the Node scripts that drive the system's
// headless Chromium (through playwright-core, in the Node project at
// internal/interop/testdata) for tests of pages a person sees: the demo
// page and the status page.
package browsertest
