package evidencestore

// SetListPageSize makes s list versions n at a time (tests of the paging).
func SetListPageSize(s *S3, n int32) { s.pageSize = n }
