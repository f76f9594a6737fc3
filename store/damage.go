package store

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/store/codec"
)

// bbolt panics, by design, on a page it cannot make sense of: one that does
// not name itself, of no known type, or whose elements point past it, as a
// disk fault or a stray write in the middle of the file leaves it. Every
// transaction boundary of this package (view, each queued update, the
// commit, the file's own opening) turns such a panic into an error of kind
// corrupt, so a damaged page fails what reaches it (a request, a sweep,
// profiled check) and not the process. A panic raised outside bbolt is a
// bug and is not taken for damage.

// ErrDamagedPage marks an error made of a panic bbolt raised reading a page.
var ErrDamagedPage = errors.New("bbolt cannot read a page")

// damageOf returns the error for a panic r that bbolt raised, nil for any
// other. Call it from the deferred function that recovered r, while the
// panicking frames are still on the stack.
func damageOf(r any) error {
	if !raisedByBolt() {
		return nil
	}
	return &errs.Error{Kind: errs.KindCorrupt, Code: codec.CodeDataCorrupt, Err: fmt.Errorf("%w: %v", ErrDamagedPage, r),
		Message: "the data file is damaged: a page of it cannot be read; run profiled check on the stopped store and restore the last backup"}
}

// recoverDamage, deferred, sets *err to the error of a panic bbolt raised
// and lets any other panic go on.
func recoverDamage(err *error) {
	r := recover()
	if r == nil {
		return
	}
	damage := damageOf(r)
	if damage == nil {
		panic(r)
	}
	*err = damage
}

// raisedByBolt reports whether the panic being recovered was raised in
// bbolt's code: by the first frame below the runtime's panic machinery
// (runtime.gopanic and, for a fault or a bounds check, the runtime
// function that called it).
func raisedByBolt() bool {
	pcs := make([]uintptr, 32) // the recovering function is a few frames above the panic
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && !strings.HasPrefix(f.Function, "runtime."):
			return strings.HasPrefix(f.Function, "go.etcd.io/bbolt")
		}
		if !more {
			return false
		}
	}
}
