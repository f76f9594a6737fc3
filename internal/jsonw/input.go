package jsonw

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Bounds on number literals in client input. Any value a profile can hold
// (a 64-bit integer, a double, a currency amount) is written in far fewer
// characters and a far smaller exponent; beyond them, arbitrary-precision
// parsing costs seconds of CPU (a million digits) or fails outright
// (1e1000000000), so such literals are refused before anything parses them.
const (
	MaxNumberLength = 64
	MaxExponent     = 400
)

// ErrNumber marks a number literal outside the bounds above.
var ErrNumber = errors.New("number literal out of bounds")

// ErrEscape marks a string escape that decoding would change or let
// through silently: a lone UTF-16 surrogate (decoded as U+FFFD) or NUL.
var ErrEscape = errors.New("string escape refused")

// CheckNumber refuses a number literal longer than MaxNumberLength or with
// a decimal exponent beyond ±MaxExponent. lit is a JSON number as written.
func CheckNumber(lit string) error {
	if len(lit) > MaxNumberLength {
		return fmt.Errorf("%w: a number of %d characters (at most %d)", ErrNumber, len(lit), MaxNumberLength)
	}
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		exp, err := strconv.Atoi(strings.TrimPrefix(lit[i+1:], "+"))
		if err != nil || exp > MaxExponent || exp < -MaxExponent {
			return fmt.Errorf("%w: exponent %s (at most ±%d)", ErrNumber, lit[i+1:], MaxExponent)
		}
	}
	return nil
}

// CheckInput scans raw JSON text for what encoding/json accepts but should
// not reach the store: escaped lone surrogates, escaped NUL, and number
// literals CheckNumber refuses. It does not check syntax (the decoder
// does); on text that is not JSON its answer is only advisory. One pass
// over the bytes: it runs on every body before decoding.
func CheckInput(data []byte) error {
	inString := false
	for i := 0; i < len(data); {
		c := data[i]
		switch {
		case inString && c == '\\':
			if i+1 < len(data) && data[i+1] == 'u' {
				r, ok := hexAt(data, i+2)
				switch {
				case !ok:
					i += 2 // malformed: the decoder reports it
					continue
				case r == 0:
					return fmt.Errorf("%w: \\u0000 (NUL) at offset %d", ErrEscape, i)
				case r >= 0xD800 && r <= 0xDBFF:
					if lo, ok := hexAt(data, i+8); ok && i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' && lo >= 0xDC00 && lo <= 0xDFFF {
						i += 12
						continue
					}
					return fmt.Errorf("%w: lone surrogate \\u%04x at offset %d", ErrEscape, r, i)
				case r >= 0xDC00 && r <= 0xDFFF:
					return fmt.Errorf("%w: lone surrogate \\u%04x at offset %d", ErrEscape, r, i)
				}
				i += 6
				continue
			}
			i += 2
		case inString:
			if c == '"' {
				inString = false
			}
			i++
		case c == '"':
			inString = true
			i++
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(data) && strings.IndexByte("0123456789+-.eE", data[j]) >= 0 {
				j++
			}
			if j-i > MaxNumberLength { // before any copy of a long literal
				return fmt.Errorf("%w: a number of %d characters (at most %d) at offset %d", ErrNumber, j-i, MaxNumberLength, i)
			}
			if err := CheckNumber(string(data[i:j])); err != nil {
				return fmt.Errorf("%w at offset %d", err, i)
			}
			i = j
		default:
			i++
		}
	}
	return nil
}

// hexAt reads four hex digits at data[i:].
func hexAt(data []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
