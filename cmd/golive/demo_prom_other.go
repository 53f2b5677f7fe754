//go:build !nodevserver && !linux

package main

import "syscall"

// demoPromSysProcAttr has nothing to add outside Linux: the demo stops
// Prometheus itself when it ends or is interrupted.
func demoPromSysProcAttr() *syscall.SysProcAttr { return nil }
