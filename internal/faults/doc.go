// Package faults is golive's kill harness: tests that run the real worker
// binary (`golive worker`, built once per run) as a child process against an
// in-process Temporal server, SIGKILL it at every activity of the happy path
// and of the rollback path (before the activity runs, and after it returned
// but before its result reached the server, through the GOLIVE_FAULT test hook
// of package worker), restart it, and check that every release completes and
// that every side effect happened exactly once per key, judged by the target's
// own record: the demo app's deploy log, the target database's DDL log and
// migration table, the evidence directory, and the request logs of Resend and
// Twilio stand-ins that the worker reaches through its ordinary HTTPS proxy
// settings.
//
// The tests are slow (each crash is noticed when the activity's start-to-close
// timeout expires, up to two minutes), so they skip unless GOLIVE_FAULTS=1:
//
//	GOLIVE_FAULTS=1 go test -count=1 -timeout 15m -v ./internal/faults
//
// See docs/testing.md.
package faults
