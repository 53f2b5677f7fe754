package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as "15m", "4h" or "1h30m" in YAML.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats the duration the way it is written in a spec.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML parses a Go duration string; a bare number is refused because its unit would be a guess.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a duration such as 15m or 4h")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration as text.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ParseDuration parses "15m", "4h", "0s"; negative values are an error.
func ParseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (want e.g. 15m, 4h, 90s)", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return Duration(v), nil
}

// MarshalJSON keeps payloads readable in the Temporal UI ("15m0s" rather than nanoseconds).
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads what MarshalJSON wrote (and plain nanoseconds for robustness).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration: %w", err)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Percent is a share written as "0.1%" or "80%" in YAML; the value is in percent (0-100).
type Percent float64

// String formats the value as written in a spec.
func (p Percent) String() string { return strconv.FormatFloat(float64(p), 'f', -1, 64) + "%" }

// UnmarshalYAML parses "5%"; values outside 0-100 % are an error.
func (p *Percent) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a percentage such as 5%%")
	}
	v, err := ParsePercent(n.Value)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// MarshalYAML writes the percentage as text.
func (p Percent) MarshalYAML() (any, error) { return p.String(), nil }

// ParsePercent parses "0.1%"; the % sign is required so 0.05 is never mistaken for 5 %.
func ParsePercent(s string) (Percent, error) {
	t := strings.TrimSpace(s)
	if !strings.HasSuffix(t, "%") {
		return 0, fmt.Errorf("%q is not a percentage (write it with a %% sign, e.g. 5%%)", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, "%")), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a percentage", s)
	}
	if math.IsNaN(v) || v < 0 || v > 100 {
		return 0, fmt.Errorf("percentage %s is outside 0%%..100%%", t)
	}
	return Percent(v), nil
}
