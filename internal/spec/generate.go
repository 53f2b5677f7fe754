package spec

// docs/spec.md and docs/spec.schema.json are written from Reference and Schema by the
// test that checks they are up to date.
//go:generate go test -run ^TestCommittedReferenceIsUpToDate$ -update .
