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
	"errors"
	"fmt"
	"io"

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
}

// Result is how far an import got.
type Result struct {
	Profiles int // profiles committed
	Lines    int // lines read and committed, blank ones included
	Batches  int // transactions committed
}

// Creator is the part of profile.Service an import needs.
type Creator interface {
	CreateMany(ctx context.Context, tenant string, bodies []map[string]any) (int, error)
}

var _ Creator = (*profile.Service)(nil)

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
	sc := bufio.NewScanner(r)
	// The limit is the larger of max and the buffer's capacity, so the
	// first buffer must not exceed it; +1 leaves room for the newline.
	sc.Buffer(make([]byte, 0, min(64<<10, maxLine+1)), maxLine+1)

	var (
		res    Result
		bodies = make([]map[string]any, 0, batchSize)
		lines  = make([]int, 0, batchSize) // line number of each body
		line   int
	)
	flush := func() error {
		if len(bodies) == 0 {
			return nil
		}
		if err := createBatch(ctx, svc, opts.Tenant, bodies, lines); err != nil {
			return err
		}
		res.Profiles += len(bodies)
		res.Lines = line
		res.Batches++
		if opts.Progress != nil {
			opts.Progress(res)
		}
		clear(bodies) // let the committed maps go
		bodies, lines = bodies[:0], lines[:0]
		return nil
	}
	for sc.Scan() {
		line++
		data := sc.Bytes()
		if len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		body, err := decodeLine(data)
		if err != nil {
			return res, &LineError{Line: line, Err: err}
		}
		bodies = append(bodies, body)
		lines = append(lines, line)
		if len(bodies) == batchSize {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return res, &LineError{Line: line + 1, Err: fmt.Errorf("line is longer than %d bytes", maxLine)}
		}
		return res, fmt.Errorf("reading input after line %d: %w", line, err)
	}
	if err := flush(); err != nil {
		return res, err
	}
	res.Lines = line
	return res, nil
}

// createBatch stores one batch; lines[i] is the line of bodies[i] (blank
// lines make them sparse), so a failing body is reported by its line.
func createBatch(ctx context.Context, svc Creator, tenant string, bodies []map[string]any, lines []int) error {
	_, err := svc.CreateMany(ctx, tenant, bodies)
	var be *profile.BodyError
	if errors.As(err, &be) && be.Index >= 0 && be.Index < len(lines) {
		return &LineError{Line: lines[be.Index], Err: be.Err}
	}
	if err != nil {
		return fmt.Errorf("lines %d-%d: %w", lines[0], lines[len(lines)-1], err)
	}
	return nil
}

// decodeLine reads one line as the API reads a request body.
func decodeLine(data []byte) (map[string]any, error) {
	obj, err := httpin.DecodeObject(data)
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
