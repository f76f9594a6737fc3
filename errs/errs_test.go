package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindOf(t *testing.T) {
	e := Invalid("BAD", "field", "bad %s", "thing")
	wrapped := fmt.Errorf("context: %w", e)
	if KindOf(wrapped) != KindInvalid || As(wrapped) != e || !Is(wrapped, KindInvalid) {
		t.Fatalf("a wrapped *Error lost its kind: %v", wrapped)
	}
	if KindOf(errors.New("plain")) != KindInternal || Is(nil, KindInternal) {
		t.Fatal("a plain error must be internal, nil no kind")
	}
	if e.Error() != "bad thing" || e.Field != "field" || e.Code != "BAD" {
		t.Fatalf("got %q %q %q", e.Error(), e.Field, e.Code)
	}
	if got := (&Error{Message: "m", Err: errors.New("cause")}).Error(); got != "m: cause" {
		t.Fatalf("Error() = %q", got)
	}
	if KindTooManyRequests.String() != "too_many_requests" || Kind(200).String() != "kind(200)" {
		t.Fatal("kind names")
	}
}
