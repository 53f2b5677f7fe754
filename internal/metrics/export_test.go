package metrics

import "time"

// SetPostgresClock replaces the provider's clock (the slow-query interval is measured with it).
func SetPostgresClock(p *Postgres, now func() time.Time) { p.now = now }

// SetPostgresTimeout replaces the provider's statement timeout.
func SetPostgresTimeout(p *Postgres, d time.Duration) { p.timeout = d }
