//go:build !linux

package server_test

import "syscall"

// dieWithParent is dieWithParent of proc_linux_test.go where the kernel
// offers no such signal: a crashed test binary may leave servers running.
func dieWithParent() *syscall.SysProcAttr { return nil }
