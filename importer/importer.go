// Package importer is the bulk load path of `profiled import`: it reads
// NDJSON profiles (one JSON object per line, exactly the body POST
// /profiles accepts) and stores them through profile.Service.CreateMany in
// batches, one transaction and one fsync per batch.
//
// A batch is all or nothing: the first invalid line (malformed JSON,
// schema violation, conflict) fails its whole batch, nothing of that batch
// is stored, and the import stops with an error naming the line. Earlier
// batches stay committed; Result.Lines says how far the file got, so an
// operator can fix the line and import the rest.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/contactcenter/profiled/profile"
)

// DefaultBatch is the batch size when Options leave it zero: large enough
// that the fsync is a small share of a batch, small enough that a failing
// batch re-does little and memory stays flat.
const DefaultBatch = 2000

// MaxLineBytes bounds one line, like the server's default body limit.
const MaxLineBytes = 1 << 20

// Options tune Import.
type Options struct {
	Tenant   string // "" is the default tenant; checked like X-Genesys-TenantId
	Batch    int    // profiles per transaction; DefaultBatch when 0
	MaxLine  int    // longest accepted line in bytes; MaxLineBytes when 0
	Progress func(Result)
	// Rejects, when set, receives each bad line as a JSON line
	// {"line":N,"error":"…","text":"…"} and the import goes on; without
	// it the first bad line stops the import. A batch's rejects are
	// written (and synced, when Rejects has Sync, as an *os.File has)
	// before the batch commits: a line recorded as done has reached the
	// reject file, whatever stops the import after.
	Rejects io.Writer
	// Rejected holds the lines Rejects already holds a record of (a
	// -resume appending to the reject file of the run it resumes): a
	// redone batch does not report those lines twice. The file is not in
	// line order (a batch's malformed lines are written before its try,
	// a schema fault after them), so a line before the last it holds may
	// still be missing. RejectedLines reads them from a reject file.
	Rejected map[int]bool
	// Track names this input (its absolute path, say): each batch records,
	// in its own transaction, how many lines are done under that name,
	// with a fingerprint of the input's first line.
	Track string
	// Resume skips the lines an earlier import of Track recorded as done,
	// so a rerun after an interruption never creates a profile twice. An
	// input whose first line differs from the recorded one is refused.
	Resume bool
	// Committed reads what a batch recorded (the store's setting); needed
	// with Track.
	Committed func(ctx context.Context, name string) (string, error)
}

// Result is how far an import got.
type Result struct {
	Profiles int  // profiles committed
	Lines    int  // lines read and done (committed or rejected), blank ones included
	Batches  int  // transactions committed
	Rejected int  // bad lines written to Options.Rejects
	Resumed  int  // lines skipped as done by an earlier run (Options.Resume)
	NoRecord bool // Options.Resume found no record of an earlier run: started at line 1
}

// Creator is the part of profile.Service an import needs.
type Creator interface {
	CreateMany(ctx context.Context, tenant string, bodies []map[string]any, mark profile.Mark) (int, error)
}

var _ Creator = (*profile.Service)(nil)

// markName is the setting an import records its progress under.
// A name that is not UTF-8 (a file name in Latin-1) is quoted: PostgreSQL
// text cannot hold it, and an absolute path never starts with a quote.
func markName(tenant, track string) string {
	if !utf8.ValidString(track) {
		track = strconv.QuoteToASCII(track)
	}
	return "import:" + tenant + ":" + track
}

// fingerprint identifies an input by its first line, so that a resume
// refuses another file at the same path.
func fingerprint(firstLine []byte) string {
	sum := sha256.Sum256(firstLine)
	return hex.EncodeToString(sum[:8])
}

// pending is a decoded line waiting for its batch.
type pending struct {
	body map[string]any
	line int
	text []byte // kept for the reject file
}

// Import reads NDJSON from r and creates every profile in batches. Blank
// lines are skipped (they still count for line numbers). On failure the
// error is a *LineError naming the line (numbered from 1), and Result counts
// what was committed before the failing batch.
func Import(ctx context.Context, svc Creator, r io.Reader, opts Options) (Result, error) {
	if err := httpin.CheckTenant(opts.Tenant); err != nil {
		return Result{}, err
	}
	batchSize := opts.Batch
	if batchSize <= 0 {
		batchSize = DefaultBatch
	}
	maxLine := opts.MaxLine
	if maxLine <= 0 {
		maxLine = MaxLineBytes
	}
	var res Result
	done, head := 0, "" // what an earlier run of this input recorded
	if opts.Resume {
		v, err := opts.Committed(ctx, markName(opts.Tenant, opts.Track))
		if err != nil {
			return res, fmt.Errorf("reading the progress of an earlier import: %w", err)
		}
		if v == "" {
			res.NoRecord = true
		} else if _, err := fmt.Sscanf(v, "%d %s", &done, &head); err != nil {
			return res, fmt.Errorf("the recorded progress of %s is %q, not lines and a fingerprint", opts.Track, v)
		}
	}
	lr := &lineReader{r: bufio.NewReaderSize(r, min(64<<10, maxLine+1)), max: maxLine}
	b := &batcher{ctx: ctx, svc: svc, opts: opts, res: &res, items: make([]pending, 0, min(batchSize, DefaultBatch))} // grows to a larger batch as lines come: -batch is a bound, not a reservation
	line := 0
	for {
		data, tooLong, err := lr.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return res, fmt.Errorf("reading input after line %d: %w", line, err)
		}
		line++
		if line == 1 {
			b.head = fingerprint(data)
			if head != "" && head != b.head {
				return res, fmt.Errorf("%s is not the input imported before under that name (its first line differs): rerun without -resume, or import the new file under another name", opts.Track)
			}
		}
		if line <= done {
			res.Resumed++
			continue
		}
		if tooLong {
			// Set aside with -skip-bad like any bad line (the reject
			// keeps the line's first bytes); without it, the import stops.
			text := data[:min(len(data), rejectTextBytes)]
			if err := b.reject(line, fmt.Errorf("line is longer than %d bytes", maxLine), text); err != nil {
				return res, err
			}
			continue
		}
		if len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		body, err := decodeLine(data)
		if err != nil {
			if err := b.reject(line, err, data); err != nil {
				return res, err
			}
			continue
		}
		b.items = append(b.items, pending{body, line, bytes.Clone(data)})
		if len(b.items) == batchSize {
			if err := b.flush(line); err != nil {
				return res, err
			}
		}
	}
	if err := b.flush(line); err != nil {
		return res, err
	}
	res.Lines = line
	return res, nil
}

// rejectTextBytes is how much of a line over the limit its reject keeps.
const rejectTextBytes = 4096

// lineReader reads lines as bufio.ScanLines does (the newline and a
// carriage return before it dropped), but goes on past a line longer than
// max: next returns its first max bytes and tooLong, and the next call
// starts at the following line.
type lineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	lr.buf = lr.buf[:0]
	read := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if len(chunk) > 0 {
			read = true
		}
		if room := lr.max + 1 - len(lr.buf); room > 0 {
			lr.buf = append(lr.buf, chunk[:min(len(chunk), room)]...)
		} else if len(chunk) > 0 {
			tooLong = true
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil && !errors.Is(err, io.EOF):
			return nil, false, err
		case errors.Is(err, io.EOF) && !read:
			return nil, false, io.EOF
		}
		out := bytes.TrimSuffix(lr.buf, []byte("\n"))
		if len(out) > lr.max {
			return out[:lr.max], true, nil
		}
		if tooLong {
			return out, true, nil
		}
		return bytes.TrimSuffix(out, []byte("\r")), false, nil
	}
}

// batcher commits pending lines in batches, setting bad ones aside when
// Options.Rejects is set.
type batcher struct {
	ctx   context.Context
	svc   Creator
	opts  Options
	res   *Result
	items []pending
	head  string // the input's fingerprint, recorded with the progress
	// rejects are the reject records of the batch, written in line order
	// once it commits (malformed lines are found on reading, schema
	// faults when the batch is stored).
	rejects []rejected
}

// rejected is one line's reject record.
type rejected struct {
	line   int
	record []byte
}

// reject records a bad line, or stops the import without Options.Rejects.
func (b *batcher) reject(line int, err error, text []byte) error {
	if b.opts.Rejects == nil {
		return &LineError{Line: line, Err: err}
	}
	if b.opts.Rejected[line] { // in the reject file already
		b.res.Rejected++
		return nil
	}
	msg := err.Error()
	if e := errs.As(err); e != nil {
		msg = e.Message // what a client would be told, not the store's own words
	}
	rec, _ := json.Marshal(rejectRecord(line, msg, text))
	b.rejects = append(b.rejects, rejected{line, append(rec, '\n')})
	b.res.Rejected++
	return nil
}

// rejectRecord is the reject file's record of a line. A line that is not
// UTF-8 is kept in base64 as well: JSON text would carry U+FFFD for its
// bad bytes, and the line fixed from it would have lost them.
func rejectRecord(line int, msg string, text []byte) map[string]any {
	rec := map[string]any{"line": line, "error": msg, "text": string(text)}
	if !utf8.Valid(text) {
		rec["text_base64"] = base64.StdEncoding.EncodeToString(text)
	}
	return rec
}

// flush commits the pending lines; upTo is the last line read, recorded as
// done with the batch. A bad body is rejected and the rest retried; a
// conflict found only at commit (it names no line) is isolated by
// committing the lines one by one. A batch left with no line still
// records its progress, so its rejects are not redone.
func (b *batcher) flush(upTo int) error {
	for {
		if len(b.items) == 0 {
			if len(b.rejects) > 0 || b.opts.Track != "" && upTo > b.res.Lines {
				if err := b.commit(nil, upTo); err != nil {
					return err
				}
			}
			break
		}
		err := b.commit(b.items, upTo)
		if err == nil {
			break
		}
		switch bad := bodiesAtFault(err, len(b.items)); {
		case bad != nil:
			for _, be := range bad {
				it := b.items[be.Index]
				if err := b.reject(it.line, be.Err, it.text); err != nil {
					return err
				}
			}
			for _, be := range slices.Backward(bad) {
				b.items = slices.Delete(b.items, be.Index, be.Index+1)
			}
		case b.opts.Rejects != nil && lineAtFault(err) && len(b.items) == 1:
			it := b.items[0]
			if err := b.reject(it.line, err, it.text); err != nil {
				return err
			}
			b.items = b.items[:0]
		case b.opts.Rejects != nil && len(b.items) > 1 && errs.KindOf(err) == errs.KindConflict:
			// A conflict the store found only at commit names no line:
			// store the lines one by one to find it. Other failures (the
			// store down, a timeout) stop the import: no line is to blame.
			for i, it := range b.items {
				last := it.line
				if i == len(b.items)-1 {
					last = upTo
				}
				if err := b.commit(b.items[i:i+1], last); err != nil {
					if !lineAtFault(err) {
						return fmt.Errorf("line %d: %w", it.line, err)
					}
					if err := b.reject(it.line, err, it.text); err != nil {
						return err
					}
				}
			}
			b.items = b.items[:0]
		default:
			var le *LineError
			if errors.As(err, &le) {
				return err
			}
			return fmt.Errorf("lines %d-%d: %w", b.items[0].line, b.items[len(b.items)-1].line, err)
		}
	}
	b.res.Lines = upTo
	clear(b.items) // let the committed maps go
	b.items = b.items[:0]
	return nil
}

// bodiesAtFault returns the bodies err blames, in order, when it blames
// only bodies of the n given (each invalid or clashing with stored data);
// nil otherwise.
func bodiesAtFault(err error, n int) []*profile.BodyError {
	var bad []*profile.BodyError
	var invalid profile.InvalidBodies
	var be *profile.BodyError
	switch {
	case errors.As(err, &invalid):
		bad = invalid
	case errors.As(err, &be):
		bad = []*profile.BodyError{be}
	}
	for _, be := range bad {
		if be.Index < 0 || be.Index >= n || !lineAtFault(be.Err) {
			return nil
		}
	}
	return bad
}

// lineAtFault reports whether err blames the line (invalid, or clashing
// with stored data) rather than the store.
func lineAtFault(err error) bool {
	k := errs.KindOf(err)
	return k == errs.KindInvalid || k == errs.KindConflict
}

// commit writes the rejects of the lines it covers, then stores items in
// one transaction with the progress mark.
func (b *batcher) commit(items []pending, upTo int) error {
	if err := b.writeRejects(upTo); err != nil {
		return err
	}
	bodies := make([]map[string]any, len(items))
	for i, it := range items {
		bodies[i] = it.body
	}
	var mark profile.Mark
	if b.opts.Track != "" {
		mark = profile.Mark{Name: markName(b.opts.Tenant, b.opts.Track), Value: strconv.Itoa(upTo) + " " + b.head}
	}
	n, err := b.svc.CreateMany(b.ctx, b.opts.Tenant, bodies, mark)
	if err != nil {
		var be *profile.BodyError
		if errors.As(err, &be) && b.opts.Rejects == nil && be.Index >= 0 && be.Index < len(items) {
			return &LineError{Line: items[be.Index].line, Err: be.Err}
		}
		return err
	}
	b.res.Profiles += n
	if n > 0 {
		b.res.Batches++
	}
	if b.opts.Progress != nil {
		b.res.Lines = upTo
		b.opts.Progress(*b.res)
	}
	return nil
}

// writeRejects writes the rejects of lines up to upTo, in line order (a
// later line's, read ahead of a batch stored line by line, waits), and
// syncs them: the commit that records those lines as done comes after.
func (b *batcher) writeRejects(upTo int) error {
	slices.SortFunc(b.rejects, func(a, b rejected) int { return a.line - b.line })
	var out []byte
	n := 0
	for _, r := range b.rejects {
		if r.line > upTo {
			break
		}
		out = append(out, r.record...)
		n++
	}
	if n == 0 {
		return nil
	}
	if _, err := b.opts.Rejects.Write(out); err != nil {
		return fmt.Errorf("writing the reject file: %w", err)
	}
	if f, ok := b.opts.Rejects.(interface{ Sync() error }); ok {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("writing the reject file: %w", err)
		}
	}
	b.rejects = slices.Delete(b.rejects, 0, n)
	return nil
}

// ReopenRejects readies a reject file opened for reading and appending (a
// -resume appends to the file of the run it resumes): it returns the lines
// the file holds a record of, for Options.Rejected, and ends a last record
// cut short (the disk filled up mid-write) with a newline, so the records
// appended after it are lines of their own.
func ReopenRejects(f io.ReadWriter) (map[int]bool, error) {
	lines := map[int]bool{}
	r := bufio.NewReader(f)
	for {
		record, err := r.ReadBytes('\n')
		var rec struct{ Line int }
		if json.Unmarshal(record, &rec) == nil && rec.Line > 0 {
			lines[rec.Line] = true
		}
		if err == io.EOF {
			if len(record) > 0 { // cut short: no newline after it
				_, err = f.Write([]byte("\n"))
				return lines, err
			}
			return lines, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// decodeLine reads one line as the API reads a request body.
func decodeLine(data []byte) (map[string]any, error) {
	obj, err := httpin.DecodeObject(data, "")
	if err != nil {
		return nil, fmt.Errorf("the line %w", err)
	}
	return obj, nil
}

// LineError is an import problem: which line of the input (numbered from
// 1) and why.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }
