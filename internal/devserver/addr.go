package devserver

import (
	"fmt"
	"net"
	"strconv"
)

// loopback is where the internal services (history, matching, worker) listen.
const loopback = "127.0.0.1"

// hostPort is a resolved listen address.
type hostPort struct {
	host string
	port int
}

func (h hostPort) String() string { return net.JoinHostPort(h.host, strconv.Itoa(h.port)) }

// dialHost is the host clients use to reach h: a wildcard bind is reached on loopback.
func (h hostPort) dialHost() string {
	if ip := net.ParseIP(h.host); ip != nil && ip.IsUnspecified() {
		return loopback
	}
	return h.host
}

// dialAddr is the host:port clients use to reach h.
func (h hostPort) dialAddr() string {
	return net.JoinHostPort(h.dialHost(), strconv.Itoa(h.port))
}

// resolve parses addr (falling back to def when empty); port 0 becomes a free port.
func resolve(addr, def string) (hostPort, error) {
	if addr == "" {
		addr = def
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return hostPort{}, fmt.Errorf("parse address %q: %w", addr, err)
	}
	if host == "" {
		host = loopback
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return hostPort{}, fmt.Errorf("parse address %q: bad port %q", addr, p)
	}
	if port == 0 {
		if port, err = freePort(host); err != nil {
			return hostPort{}, err
		}
	}
	return hostPort{host: host, port: port}, nil
}

// listenAddresses resolves the frontend and UI addresses of o and checks that
// both are free now: the server's listener and the UI's both exit the process
// (Logger.Fatal) on a busy port, so Start must fail first.
func listenAddresses(o *Options) (frontend, ui hostPort, err error) {
	if frontend, err = resolve(o.Address, DefaultAddress); err != nil {
		return frontend, ui, fmt.Errorf("frontend: %w", err)
	}
	if err = checkFree(frontend); err != nil {
		return frontend, ui, fmt.Errorf("frontend: %w", err)
	}
	if o.NoUI {
		return frontend, ui, nil
	}
	if ui, err = resolve(o.UIAddress, DefaultUIAddress); err != nil {
		return frontend, ui, fmt.Errorf("UI: %w", err)
	}
	if err = checkFree(ui); err != nil {
		return frontend, ui, fmt.Errorf("UI: %w", err)
	}
	return frontend, ui, nil
}

// freePort asks the kernel for a free TCP port on host. The port is released
// before it is used, so another process could take it in between; that window
// is small and acceptable for a dev server.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// checkFree fails when nothing can listen on h right now.
func checkFree(h hostPort) error {
	l, err := net.Listen("tcp", h.String())
	if err != nil {
		return fmt.Errorf("address %s is not available: %w", h, err)
	}
	return l.Close()
}
