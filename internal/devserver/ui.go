package devserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/server_options"
)

// startUI starts the Temporal UI on addr, pointed at the frontend (over TLS
// when tlsConf is set), and waits until it answers its health route.
func startUI(ctx context.Context, o *Options, addr, frontend hostPort, tlsConf *tlsSetup) (*uiserver.Server, error) {
	// ui-server's Start exits the process (echo Logger.Fatal) when it cannot
	// listen, so make sure it can before handing it the address.
	if err := checkFree(addr); err != nil {
		return nil, fmt.Errorf("start UI: %w", err)
	}
	conf := &uiconfig.Config{
		Host:                addr.host,
		Port:                addr.port,
		TemporalGRPCAddress: frontend.dialAddr(),
		EnableUI:            true,
		DefaultNamespace:    o.Namespace,
		DisableNewsFetch:    true,
		HideLogs:            true,
		CORS:                uiconfig.CORS{CookieInsecure: true}, // plain HTTP on loopback
		ForwardHeaders:      o.UIForwardHeaders,
		Codec: uiconfig.Codec{
			Endpoint:        o.CodecEndpoint,
			PassAccessToken: o.CodecPassAccessToken,
		},
	}
	if tlsConf != nil {
		conf.TLS = tlsConf.uiTLS()
	}
	ui := uiserver.NewServer(server_options.WithConfigProvider(conf))
	go func() { _ = ui.Start() }() // blocks until Stop
	if err := waitHTTP(ctx, "http://"+addr.dialAddr()+"/healthz"); err != nil {
		ui.Stop()
		return nil, fmt.Errorf("start UI: %w", err)
	}
	return ui, nil
}

// waitHTTP polls url until it answers 200 or ctx ends.
func waitHTTP(ctx context.Context, url string) error {
	c := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("build request: %w", err)
		}
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", url, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
