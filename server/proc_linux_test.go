package server_test

import "syscall"

// dieWithParent has the kernel kill a started profiled when the test
// binary that started it ends, however it ends: a panic or -timeout runs no
// Cleanup, and replicas left running held their database's connections.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
