package awsfake

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/aws/smithy-go/encoding/cbor"
)

// CloudWatch fakes Amazon CloudWatch (Smithy RPC v2 CBOR, service
// GraniteServiceVersion20100801): GetMetricData over stored datapoints, with
// the statistics Sum, Average, Minimum, Maximum, SampleCount and pNN and the
// metric math + - * / ( ) and FILL(id, value); DescribeAlarms over stored
// alarm states.
type CloudWatch struct {
	mu     sync.Mutex
	points map[string][]cwPoint
	alarms map[string]cwAlarm
	// Requests keeps the decoded GetMetricData queries received, for tests that check what was asked.
	Requests []cbor.Map
}

type cwPoint struct {
	t time.Time
	v float64
}

type cwAlarm struct {
	state, reason string
	composite     bool
}

func newCloudWatch() *CloudWatch {
	return &CloudWatch{points: map[string][]cwPoint{}, alarms: map[string]cwAlarm{}}
}

func metricKey(namespace, name string, dims map[string]string) string {
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(namespace + "|" + name)
	for _, k := range keys {
		b.WriteString("|" + k + "=" + dims[k])
	}
	return b.String()
}

// Put stores raw datapoints of a metric at t.
func (c *CloudWatch) Put(namespace, name string, dims map[string]string, t time.Time, values ...float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := metricKey(namespace, name, dims)
	for _, v := range values {
		c.points[k] = append(c.points[k], cwPoint{t, v})
	}
}

// SetAlarm stores an alarm's state (OK, ALARM, INSUFFICIENT_DATA); composite alarms are listed apart.
func (c *CloudWatch) SetAlarm(name, state string, composite bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.alarms[name] = cwAlarm{state: state, reason: "set by test", composite: composite}
}

func (c *CloudWatch) operation(r *http.Request, _ []byte) string {
	if i := strings.LastIndex(r.URL.Path, "/operation/"); i >= 0 {
		return r.URL.Path[i+len("/operation/"):]
	}
	return r.URL.Path
}

func (c *CloudWatch) writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	legacy := code
	switch code {
	case "ThrottlingException":
		legacy = "Throttling"
	case "AccessDeniedException":
		legacy = "AccessDenied"
	}
	w.Header().Set("X-Amzn-Query-Error", legacy+";Sender")
	w.WriteHeader(status)
	_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String("com.amazonaws.cloudwatch#" + code), "message": cbor.String(msg)}))
}

func (c *CloudWatch) writeCBOR(w http.ResponseWriter, m cbor.Map) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	_, _ = w.Write(cbor.Encode(m))
}

func (c *CloudWatch) serve(w http.ResponseWriter, r *http.Request, op string, body []byte) {
	if r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		c.writeError(w, 400, "InvalidParameterValue", "missing Smithy-Protocol: rpc-v2-cbor")
		return
	}
	in := cbor.Map{}
	if len(body) > 0 {
		v, err := cbor.Decode(body)
		if err != nil {
			c.writeError(w, 400, "SerializationException", err.Error())
			return
		}
		m, ok := v.(cbor.Map)
		if !ok {
			c.writeError(w, 400, "SerializationException", "body is not a map")
			return
		}
		in = m
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch op {
	case "GetMetricData":
		c.Requests = append(c.Requests, in)
		out, err := c.getMetricData(in)
		if err != nil {
			c.writeError(w, 400, "InvalidParameterValue", err.Error())
			return
		}
		c.writeCBOR(w, out)
	case "DescribeAlarms":
		names := cborStrings(in["AlarmNames"])
		types := cborStrings(in["AlarmTypes"])
		wantComposite := false
		for _, t := range types {
			wantComposite = wantComposite || t == "CompositeAlarm"
		}
		metricTypes := len(types) == 0
		for _, t := range types {
			metricTypes = metricTypes || t == "MetricAlarm"
		}
		metric, composite := cbor.List{}, cbor.List{}
		sort.Strings(names)
		for _, n := range names {
			a, ok := c.alarms[n]
			if !ok {
				continue
			}
			m := cbor.Map{"AlarmName": cbor.String(n), "AlarmArn": cbor.String(fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", Region, Account, n)),
				"StateValue": cbor.String(a.state), "StateReason": cbor.String(a.reason),
				"StateUpdatedTimestamp": &cbor.Tag{ID: 1, Value: cbor.Float64(float64(time.Now().Unix()))}}
			if a.composite && wantComposite {
				composite = append(composite, m)
			} else if !a.composite && metricTypes {
				metric = append(metric, m)
			}
		}
		c.writeCBOR(w, cbor.Map{"MetricAlarms": metric, "CompositeAlarms": composite})
	default:
		c.writeError(w, 400, "UnknownOperationException", "awsfake CloudWatch does not implement "+op)
	}
}

func cborStrings(v cbor.Value) []string {
	l, _ := v.(cbor.List)
	var out []string
	for _, e := range l {
		if s, ok := e.(cbor.String); ok {
			out = append(out, string(s))
		}
	}
	return out
}

func cborString(v cbor.Value) string { s, _ := v.(cbor.String); return string(s) }

func cborNumber(v cbor.Value) float64 {
	switch n := v.(type) {
	case cbor.Uint:
		return float64(n)
	case cbor.NegInt:
		return -float64(n)
	case cbor.Float32:
		return float64(n)
	case cbor.Float64:
		return float64(n)
	case *cbor.Tag:
		return cborNumber(n.Value)
	}
	return math.NaN()
}

// series is a metric math value: a scalar or one value per period start (unix seconds).
type series struct {
	scalar bool
	v      float64
	pts    map[int64]float64
}

func (c *CloudWatch) getMetricData(in cbor.Map) (cbor.Map, error) {
	start := time.Unix(int64(cborNumber(in["StartTime"])), 0)
	end := time.Unix(int64(cborNumber(in["EndTime"])), 0)
	if !end.After(start) {
		return nil, fmt.Errorf("The parameter EndTime must be greater than StartTime.")
	}
	queries, _ := in["MetricDataQueries"].(cbor.List)
	if len(queries) == 0 {
		return nil, fmt.Errorf("The parameter MetricDataQueries is required.")
	}
	vals := map[string]series{}
	var steps []int64
	var order []string
	returned := map[string]bool{}
	// MetricStat queries first, then expressions in order (they may refer to each other).
	for pass := 0; pass < 2; pass++ {
		for _, qv := range queries {
			q, _ := qv.(cbor.Map)
			id := cborString(q["Id"])
			if id == "" || !unicode.IsLower(rune(id[0])) {
				return nil, fmt.Errorf("The value %q for parameter MetricDataQueries.member.Id is invalid.", id)
			}
			if rd, ok := q["ReturnData"].(cbor.Bool); !ok || bool(rd) {
				returned[id] = true
			}
			if ms, ok := q["MetricStat"].(cbor.Map); ok && pass == 0 {
				m, _ := ms["Metric"].(cbor.Map)
				dims := map[string]string{}
				dl, _ := m["Dimensions"].(cbor.List)
				for _, dv := range dl {
					d, _ := dv.(cbor.Map)
					dims[cborString(d["Name"])] = cborString(d["Value"])
				}
				period := int64(cborNumber(ms["Period"]))
				if period <= 0 || period%60 != 0 && period > 60 {
					return nil, fmt.Errorf("The parameter MetricDataQueries.member.MetricStat.Period must be a multiple of 60.")
				}
				steps = periodStarts(start, end, period)
				s, err := stat(c.points[metricKey(cborString(m["Namespace"]), cborString(m["MetricName"]), dims)], cborString(ms["Stat"]), start, end, period)
				if err != nil {
					return nil, err
				}
				vals[id] = s
				order = append(order, id)
			}
			if expr, ok := q["Expression"].(cbor.String); ok && pass == 1 {
				if period, ok := q["Period"]; ok && steps == nil {
					steps = periodStarts(start, end, int64(cborNumber(period)))
				}
				s, err := evalMath(string(expr), vals, steps)
				if err != nil {
					return nil, fmt.Errorf("Error in expression %s: %v", id, err)
				}
				vals[id] = s
				order = append(order, id)
			}
		}
	}
	desc := cborString(in["ScanBy"]) != "TimestampAscending"
	results := cbor.List{}
	for _, id := range order {
		if !returned[id] {
			continue
		}
		s := vals[id]
		var times []int64
		if s.scalar {
			for _, t := range steps {
				times = append(times, t)
			}
			s.pts = map[int64]float64{}
			for _, t := range steps {
				s.pts[t] = s.v
			}
		} else {
			for t := range s.pts {
				times = append(times, t)
			}
		}
		sort.Slice(times, func(i, j int) bool {
			if desc {
				return times[i] > times[j]
			}
			return times[i] < times[j]
		})
		ts, vs := cbor.List{}, cbor.List{}
		for _, t := range times {
			ts = append(ts, &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t))})
			vs = append(vs, cbor.Float64(s.pts[t]))
		}
		results = append(results, cbor.Map{"Id": cbor.String(id), "Label": cbor.String(id), "Timestamps": ts, "Values": vs, "StatusCode": cbor.String("Complete")})
	}
	return cbor.Map{"MetricDataResults": results, "Messages": cbor.List{}}, nil
}

func periodStarts(start, end time.Time, period int64) []int64 {
	var out []int64
	for t := start.Unix(); t < end.Unix(); t += period {
		out = append(out, t)
	}
	return out
}

func stat(points []cwPoint, name string, start, end time.Time, period int64) (series, error) {
	buckets := map[int64][]float64{}
	for _, p := range points {
		if p.t.Before(start) || !p.t.Before(end) {
			continue
		}
		b := start.Unix() + (p.t.Unix()-start.Unix())/period*period
		buckets[b] = append(buckets[b], p.v)
	}
	out := series{pts: map[int64]float64{}}
	for b, vs := range buckets {
		v, err := statOf(vs, name)
		if err != nil {
			return series{}, err
		}
		out.pts[b] = v
	}
	return out, nil
}

func statOf(vs []float64, name string) (float64, error) {
	sum := 0.0
	for _, v := range vs {
		sum += v
	}
	switch name {
	case "Sum":
		return sum, nil
	case "Average":
		return sum / float64(len(vs)), nil
	case "SampleCount":
		return float64(len(vs)), nil
	case "Minimum", "Maximum":
		m := vs[0]
		for _, v := range vs {
			if (name == "Minimum" && v < m) || (name == "Maximum" && v > m) {
				m = v
			}
		}
		return m, nil
	}
	if strings.HasPrefix(name, "p") {
		p, err := strconv.ParseFloat(name[1:], 64)
		if err == nil && p > 0 && p <= 100 {
			s := append([]float64(nil), vs...)
			sort.Float64s(s)
			i := int(math.Ceil(p/100*float64(len(s)))) - 1
			if i < 0 {
				i = 0
			}
			return s[i], nil
		}
	}
	return 0, fmt.Errorf("The parameter MetricDataQueries.member.MetricStat.Stat %q is not valid.", name)
}

// evalMath evaluates a metric math expression: numbers, query ids, + - * /, parentheses and FILL(x, n).
func evalMath(expr string, vals map[string]series, steps []int64) (series, error) {
	p := &mathParser{s: expr, vals: vals, steps: steps}
	out, err := p.expr()
	if err != nil {
		return series{}, err
	}
	p.space()
	if p.i != len(p.s) {
		return series{}, fmt.Errorf("unexpected %q", p.s[p.i:])
	}
	return out, nil
}

type mathParser struct {
	s     string
	i     int
	vals  map[string]series
	steps []int64
}

func (p *mathParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *mathParser) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *mathParser) expr() (series, error) {
	l, err := p.term()
	for err == nil && (p.peek() == '+' || p.peek() == '-') {
		op := p.s[p.i]
		p.i++
		var r series
		if r, err = p.term(); err == nil {
			l = combine(l, r, op)
		}
	}
	return l, err
}

func (p *mathParser) term() (series, error) {
	l, err := p.factor()
	for err == nil && (p.peek() == '*' || p.peek() == '/') {
		op := p.s[p.i]
		p.i++
		var r series
		if r, err = p.factor(); err == nil {
			l = combine(l, r, op)
		}
	}
	return l, err
}

func (p *mathParser) factor() (series, error) {
	c := p.peek()
	switch {
	case c == '(':
		p.i++
		v, err := p.expr()
		if err == nil && p.peek() != ')' {
			err = fmt.Errorf("missing )")
		}
		p.i++
		return v, err
	case c == '-':
		p.i++
		v, err := p.factor()
		return combine(series{scalar: true, v: -1}, v, '*'), err
	case c >= '0' && c <= '9' || c == '.':
		j := p.i
		for p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '.') {
			p.i++
		}
		f, err := strconv.ParseFloat(p.s[j:p.i], 64)
		return series{scalar: true, v: f}, err
	case unicode.IsLetter(rune(c)):
		j := p.i
		for p.i < len(p.s) && (unicode.IsLetter(rune(p.s[p.i])) || unicode.IsDigit(rune(p.s[p.i])) || p.s[p.i] == '_') {
			p.i++
		}
		name := p.s[j:p.i]
		if p.peek() == '(' {
			if name != "FILL" {
				return series{}, fmt.Errorf("awsfake supports no function %s", name)
			}
			p.i++
			x, err := p.expr()
			if err != nil {
				return series{}, err
			}
			if p.peek() != ',' {
				return series{}, fmt.Errorf("FILL needs two arguments")
			}
			p.i++
			fill, err := p.expr()
			if err != nil || !fill.scalar {
				return series{}, fmt.Errorf("FILL needs a number")
			}
			if p.peek() != ')' {
				return series{}, fmt.Errorf("missing )")
			}
			p.i++
			out := series{pts: map[int64]float64{}}
			for _, t := range p.steps {
				if v, ok := x.pts[t]; ok && !x.scalar {
					out.pts[t] = v
				} else {
					out.pts[t] = fill.v
				}
			}
			return out, nil
		}
		v, ok := p.vals[name]
		if !ok {
			return series{}, fmt.Errorf("unknown id %s", name)
		}
		return v, nil
	}
	return series{}, fmt.Errorf("unexpected %q at %d", string(c), p.i)
}

func combine(l, r series, op byte) series {
	apply := func(a, b float64) (float64, bool) {
		switch op {
		case '+':
			return a + b, true
		case '-':
			return a - b, true
		case '*':
			return a * b, true
		}
		if b == 0 {
			return 0, false
		}
		return a / b, true
	}
	if l.scalar && r.scalar {
		v, _ := apply(l.v, r.v)
		return series{scalar: true, v: v}
	}
	out := series{pts: map[int64]float64{}}
	src := l.pts
	if l.scalar {
		src = r.pts
	}
	for t := range src {
		a, b := l.v, r.v
		var ok1, ok2 = true, true
		if !l.scalar {
			a, ok1 = l.pts[t]
		}
		if !r.scalar {
			b, ok2 = r.pts[t]
		}
		if ok1 && ok2 {
			if v, ok := apply(a, b); ok {
				out.pts[t] = v
			}
		}
	}
	return out
}
