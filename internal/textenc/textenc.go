// Package textenc reads request bodies a client sent in a charset other
// than UTF-8 (Apache HttpClient labels a body ISO-8859-1 unless told
// otherwise, .NET may send UTF-16): labels as the WHATWG Encoding standard
// reads them, the HTTP stacks clients use, and bytes decoded strictly.
package textenc

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
)

// asciiLabels are the labels of US-ASCII, which WHATWG reads as
// windows-1252.
var asciiLabels = []string{"us-ascii", "ascii", "ansi_x3.4-1968"}

// Lookup is the encoding a charset label names as the WHATWG Encoding
// standard reads labels, nil for one it does not know. Two departures:
// US-ASCII is ASCII, so a body saying it is ASCII that holds a byte over
// 0x7F is refused rather than read as letters its client never sent; and
// WHATWG's "replacement", for labels unsafe to read (ISO-2022-KR, HZ), is
// no encoding.
func Lookup(label string) encoding.Encoding {
	label = strings.ToLower(strings.TrimSpace(label))
	if slices.Contains(asciiLabels, label) {
		enc, _ := ianaindex.IANA.Encoding("US-ASCII") // U+FFFD for a byte over 0x7F
		return enc
	}
	enc, err := htmlindex.Get(label)
	if err != nil || enc == encoding.Replacement {
		return nil
	}
	return enc
}

// IsUTF8 reports whether enc is UTF-8.
func IsUTF8(enc encoding.Encoding) bool { return enc == unicode.UTF8 }

// IsUTF16 reports whether enc is UTF-16 in either byte order.
func IsUTF16(enc encoding.Encoding) bool { return enc == utf16BE || enc == utf16LE }

var (
	utf16BE = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	utf16LE = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
)

// The byte order marks of UTF-16, which .NET clients put before a body
// they send as UTF-16.
var (
	utf16LEBOM = []byte{0xFF, 0xFE}
	utf16BEBOM = []byte{0xFE, 0xFF}
)

// UTF16BOM returns the UTF-16 encoding data's byte order mark names, with
// the rest of data; nil and data when it starts with none.
func UTF16BOM(data []byte) (encoding.Encoding, string, []byte) {
	switch {
	case bytes.HasPrefix(data, utf16LEBOM):
		return utf16LE, "UTF-16LE", data[len(utf16LEBOM):]
	case bytes.HasPrefix(data, utf16BEBOM):
		return utf16BE, "UTF-16BE", data[len(utf16BEBOM):]
	}
	return nil, "", data
}

// Decode is src decoded from enc into UTF-8, false when a byte sequence in
// it means nothing in enc: x/text's decoders write U+FFFD for one and go
// on, and a name stored so would have lost a letter unseen.
func Decode(enc encoding.Encoding, src []byte) ([]byte, bool) {
	if IsUTF16(enc) && !wellFormedUTF16(src, enc == utf16BE) {
		return nil, false
	}
	text, err := enc.NewDecoder().Bytes(src)
	if err != nil {
		return nil, false
	}
	if bytes.Contains(text, replacementChar) && !IsUTF16(enc) {
		// Only U+FFFD as the encoding writes it (gb18030 can) is text. Its
		// bytes may be in src without being one character (0x81 0x84 0x31
		// 0xA4 0x37 is 亜, 1 and a byte meaning nothing), so counting them
		// is not enough: the text must be written back as src.
		written, err := enc.NewEncoder().Bytes(text)
		if err != nil || !bytes.Equal(written, src) {
			return nil, false
		}
	}
	return text, true
}

var replacementChar = []byte("\uFFFD")

// wellFormedUTF16 reports whether b is whole UTF-16 code units, big-endian
// or not, every surrogate in a pair.
func wellFormedUTF16(b []byte, bigEndian bool) bool {
	if len(b)%2 != 0 {
		return false
	}
	high := false // the previous unit began a pair
	for i := 0; i < len(b); i += 2 {
		u := binary.LittleEndian.Uint16(b[i:])
		if bigEndian {
			u = binary.BigEndian.Uint16(b[i:])
		}
		switch {
		case u >= 0xD800 && u <= 0xDBFF:
			if high {
				return false
			}
			high = true
		case u >= 0xDC00 && u <= 0xDFFF:
			if !high {
				return false
			}
			high = false
		case high:
			return false
		}
	}
	return !high
}

// JSON is a JSON body in UTF-8, label the charset its Content-Type names
// ("" if none). JSON is UTF-8 (RFC 8259), so bytes that are stay as sent
// whatever the label (a client that labels UTF-8 ISO-8859-1 keeps its
// letters); a body in UTF-16 (by its byte order mark, or its label) or one
// that is not UTF-8 in a charset its label names (Apache HttpClient's
// default ISO-8859-1, which the Java products the APIs imitate read as
// labelled) is decoded from it: false when its bytes mean nothing there.
// Bytes no charset accounts for are returned as they are, for the
// caller's UTF-8 check to refuse.
func JSON(data []byte, label string) ([]byte, bool) {
	var enc encoding.Encoding
	if label != "" {
		enc = Lookup(label)
	}
	if bom, _, rest := UTF16BOM(data); bom != nil {
		enc, data = bom, rest
	} else if enc == nil || IsUTF8(enc) || !IsUTF16(enc) && utf8.Valid(data) {
		return data, true
	}
	return Decode(enc, data)
}
