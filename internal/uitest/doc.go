// Package uitest holds the browser test of golive's operator surfaces: the
// Temporal UI of a real release under `golive dev`, and the evidence pack that
// `golive report` writes, both checked in headless Chromium driven by
// playwright-core (browser.js). It has no code of its own; see ui_test.go.
//
// Screenshots go to $GOLIVE_ARTIFACTS (default <repo>/artifacts/ui).
package uitest
