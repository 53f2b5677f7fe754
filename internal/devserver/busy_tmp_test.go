package devserver_test

import (
	"net"
	"testing"
	"time"

	"github.com/golive/golive/internal/devserver"
)

func TestBusyTmp(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	for _, o := range []devserver.Options{
		{Ephemeral: true, Address: l.Addr().String(), NoUI: true},
		{Ephemeral: true, Address: "127.0.0.1:0", UIAddress: l.Addr().String()},
	} {
		o.Logger = testLogger(t)
		b := time.Now()
		s, err := devserver.Start(t.Context(), o)
		t.Logf("err=%v after %s", err, time.Since(b))
		if err == nil {
			s.Stop()
		}
	}
}
