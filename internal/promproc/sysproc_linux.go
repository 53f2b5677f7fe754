package promproc

import "syscall"

// sysProcAttr kills the server with its parent even when the parent is killed
// (SIGKILL) and cannot stop it: no orphan keeps the port and the data dir.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
