package spec

import (
	"maps"
	"time"
)

// MergeItems merges a spec's item list into a default list: an item whose ID
// matches a default overrides the fields it sets (an auto check replaces an
// attestation and vice versa); other items are appended. The order is the
// default order, then the new items in the order given. Optional is taken
// from an override only when true; the loader also honours an explicit false.
func MergeItems(defaults, overrides []Item) []Item {
	return mergeItems(defaults, overrides, nil)
}

// mergeItems is MergeItems; optionalSet(i) reports whether overrides[i] wrote optional
// explicitly (nil: only a true value counts as set).
func mergeItems(defaults, overrides []Item, optionalSet func(i int) bool) []Item {
	out := make([]Item, 0, len(defaults)+len(overrides))
	index := map[string]int{}
	for _, d := range defaults {
		index[d.ID] = len(out)
		out = append(out, cloneItem(d))
	}
	for i, o := range overrides {
		set := o.Optional || (optionalSet != nil && optionalSet(i))
		at, ok := index[o.ID]
		if !ok || o.ID == "" {
			n := cloneItem(o)
			if n.Section == "" {
				n.Section = SectionAdditional
			}
			if o.ID != "" {
				index[o.ID] = len(out)
			}
			out = append(out, n)
			continue
		}
		m := &out[at]
		if o.Section != "" {
			m.Section = o.Section
		}
		if o.Title != "" {
			m.Title = o.Title
		}
		if o.Auto != nil {
			c := *o.Auto
			m.Auto, m.Attest = &c, ""
		}
		if o.Attest != "" {
			m.Attest = o.Attest
			if o.Auto == nil {
				m.Auto = nil
			}
		}
		if set {
			m.Optional = o.Optional
		}
	}
	return out
}

// cloneItem copies an item so merged lists never share a Check with their inputs.
func cloneItem(it Item) Item {
	if it.Auto != nil {
		c := *it.Auto
		c.Command = append([]string(nil), c.Command...)
		c.Schemas = append([]string(nil), c.Schemas...)
		c.RenewCommand = append([]string(nil), c.RenewCommand...)
		if c.Alerts != nil {
			c.Alerts = maps.Clone(c.Alerts)
		}
		if c.Headers != nil {
			c.Headers = maps.Clone(c.Headers)
		}
		it.Auto = &c
	}
	return it
}

// fillCheckDefaults completes an automatic check: HTTP status 200, TLS validity
// 14 days, RLS schema public, timeout 30s.
func fillCheckDefaults(c *Check) {
	if c == nil {
		return
	}
	switch c.Kind {
	case "http":
		if c.ExpectStatus == 0 {
			c.ExpectStatus = 200
		}
	case "tls":
		if c.MinDaysValid == 0 {
			c.MinDaysValid = 14
		}
	case "postgres.rls":
		if len(c.Schemas) == 0 {
			c.Schemas = []string{"public"}
		}
	}
	fillKindDefaults(c)
	if c.Timeout == 0 {
		c.Timeout = Duration(30 * time.Second)
	}
}
