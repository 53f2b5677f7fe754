//go:build !nodevserver

package main

import "syscall"

// demoPromSysProcAttr kills Prometheus with golive even when golive itself is
// killed (SIGKILL) and cannot stop it: no orphan keeps the port and the data dir.
func demoPromSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
