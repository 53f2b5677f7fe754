package charts

import (
	"math"
	"sort"
)

// label is a line's label at the right of the plot.
type label struct {
	y                  float64
	text, color, class string
}

// labelGap is the least vertical distance between two labels (11px text).
const labelGap = 12.0

// spread moves labels apart vertically, at least labelGap, keeping their
// order, within [top, bottom], so lines close in value keep readable labels.
func spread(ls []label, top, bottom float64) []label {
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].y < ls[j].y })
	for i := 1; i < len(ls); i++ {
		ls[i].y = math.Max(ls[i].y, ls[i-1].y+labelGap)
	}
	if n := len(ls); n > 0 && ls[n-1].y > bottom {
		ls[n-1].y = bottom
		for i := n - 2; i >= 0; i-- {
			ls[i].y = math.Min(ls[i].y, ls[i+1].y-labelGap)
		}
	}
	if len(ls) > 0 && ls[0].y < top {
		ls[0].y = top
		for i := 1; i < len(ls); i++ {
			ls[i].y = math.Max(ls[i].y, ls[i-1].y+labelGap)
		}
	}
	return ls
}
