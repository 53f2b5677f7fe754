package promtest

import "syscall"

// sysProcAttr kills the server with the test binary, should a test crash before its cleanup.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
