//go:build !linux

package store

import "context"

// Prewarm does nothing off Linux (see prewarm_linux.go).
func (db *DB) Prewarm(context.Context) (PrewarmResult, error) {
	return PrewarmResult{Skipped: "prewarming is implemented for Linux only"}, nil
}
