package metrics_test

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/golive/golive/internal/awsfake"
	"github.com/golive/golive/internal/metrics"
	"github.com/golive/golive/internal/spec"
)

const (
	alb      = "app/portal/50dc6c495c0c9188"
	errRate  = "100 * FILL({AWS/ApplicationELB HTTPCode_Target_5XX_Count Sum LoadBalancer=" + alb + "}, 0) / {AWS/ApplicationELB RequestCount Sum LoadBalancer=" + alb + "}"
	p95      = "1000 * {AWS/ApplicationELB TargetResponseTime p95 LoadBalancer=" + alb + "}"
	dbConns  = "100 * {AWS/RDS DatabaseConnections Maximum DBInstanceIdentifier=portal-db} / 500"
	rawConns = "{AWS/RDS DatabaseConnections Maximum DBInstanceIdentifier=portal-db}"
)

func TestCloudWatchProvider(t *testing.T) {
	cloud := awsfake.Start(t)
	cw := cloud.CloudWatch
	now := time.Now()
	at := now.Truncate(time.Minute).Add(-2 * time.Minute)
	lb := map[string]string{"LoadBalancer": alb}
	cw.Put("AWS/ApplicationELB", "RequestCount", lb, at, 200, 250, 150)
	cw.Put("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lb, at, 1, 2)
	for i := 1; i <= 100; i++ {
		cw.Put("AWS/ApplicationELB", "TargetResponseTime", lb, at, float64(i)/100)
	}
	cw.Put("AWS/ApplicationELB", "TargetResponseTime", lb, now.Add(-time.Hour), 30) // outside the window
	cw.Put("AWS/RDS", "DatabaseConnections", map[string]string{"DBInstanceIdentifier": "portal-db"}, at, 40, 55, 48)
	cw.Put("AWS/ApplicationELB", "RequestCount", map[string]string{"LoadBalancer": "app/quiet/1"}, at, 80)
	cw.SetAlarm("portal-5xx", "OK", false)
	cw.SetAlarm("portal-p95", "INSUFFICIENT_DATA", false)
	cw.SetAlarm("portal-health", "ALARM", true)

	p := metrics.NewCloudWatchFromSpec(cloud.Config(t), spec.Metrics{Provider: "cloudwatch", CloudWatch: &spec.CloudWatchMetrics{Window: spec.Duration(5 * time.Minute)}})
	ctx := context.Background()
	for q, want := range map[string]float64{
		errRate:  0.5,
		p95:      950,
		dbConns:  11,
		rawConns: 55,
		"100 * FILL({AWS/ApplicationELB HTTPCode_Target_5XX_Count Sum LoadBalancer=app/quiet/1}, 0) / {AWS/ApplicationELB RequestCount Sum LoadBalancer=app/quiet/1}": 0,
		"ALARMS(portal-5xx, portal-p95)":                  0,
		"alarms('portal-5xx', portal-health, portal-p95)": 1,
	} {
		got, err := p.Query(ctx, q, time.Time{})
		if err != nil || math.Abs(got-want) > 1e-9 {
			t.Errorf("Query(%s) = %v, %v; want %v", q, got, err, want)
		}
	}

	// CloudWatch keeps history: a reading as of an hour ago sees that hour's datapoint.
	if got, err := p.Query(ctx, p95, now.Add(-time.Hour+2*time.Minute)); err != nil || got != 30000 {
		t.Errorf("Query as of an hour ago = %v, %v; want 30000", got, err)
	}
	for q, wantErr := range map[string]string{
		"{AWS/RDS DatabaseConnections Maximum DBInstanceIdentifier=gone-db}": "no datapoint",
		"ALARMS(portal-5xx, portal-gone)":                                    "alarms not found: portal-gone",
		"error_rate":                                                         "names no metric",
		"{AWS/RDS DatabaseConnections}":                                      "want {NAMESPACE METRIC STAT",
	} {
		if _, err := p.Query(ctx, q, time.Time{}); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("Query(%s) error = %v, want %q", q, err, wantErr)
		}
	}

	cloud.Fail("monitoring", "GetMetricData", awsfake.Fault{Code: "ThrottlingException", Message: "Rate exceeded", Times: 2})
	before := cloud.Calls("monitoring", "GetMetricData")
	if got, err := p.Query(ctx, errRate, time.Time{}); err != nil || got != 0.5 {
		t.Errorf("throttled query = %v, %v", got, err)
	}
	if n := cloud.Calls("monitoring", "GetMetricData") - before; n != 3 {
		t.Errorf("GetMetricData called %d times, want 3 (two throttled)", n)
	}
	cloud.Fail("monitoring", "DescribeAlarms", awsfake.Fault{Code: "AccessDeniedException"})
	if _, err := p.Query(ctx, "ALARMS(portal-5xx)", time.Time{}); err == nil || !strings.Contains(err.Error(), "cloudwatch:DescribeAlarms on alarms portal-5xx: access denied") {
		t.Errorf("access denied = %v", err)
	}
}

// TestCloudWatchRequestShape checks the GetMetricData request the fake received.
func TestCloudWatchRequestShape(t *testing.T) {
	cloud := awsfake.Start(t)
	p := metrics.NewCloudWatch(cloudwatch.NewFromConfig(cloud.Config(t)), 3*time.Minute)
	_, _ = p.Query(context.Background(), errRate, time.Time{})
	if len(cloud.CloudWatch.Requests) != 1 {
		t.Fatalf("%d requests", len(cloud.CloudWatch.Requests))
	}
	req := cloud.CloudWatch.Requests[0]
	queries := req["MetricDataQueries"]
	got := strings.Join(strings.Fields(strings.NewReplacer("\n", " ").Replace(fmtValue(queries))), " ")
	for _, want := range []string{`Id:m1`, `Id:m2`, `Expression:100 * FILL(m1, 0) / m2`, `Period:180`, `Stat:Sum`, `ReturnData:false`} {
		if !strings.Contains(got, want) {
			t.Errorf("request lacks %s: %s", want, got)
		}
	}
}

// fmtValue renders a decoded CBOR value as Key:value pairs.
func fmtValue(v cbor.Value) string {
	switch x := v.(type) {
	case cbor.Map:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+":"+fmtValue(x[k]))
		}
		return "{" + strings.Join(parts, " ") + "}"
	case cbor.List:
		var parts []string
		for _, e := range x {
			parts = append(parts, fmtValue(e))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case cbor.String:
		return string(x)
	case cbor.Uint:
		return strconv.FormatUint(uint64(x), 10)
	case cbor.Bool:
		return strconv.FormatBool(bool(x))
	}
	return fmt.Sprint(v)
}
