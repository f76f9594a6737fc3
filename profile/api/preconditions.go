package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
)

// entityTags is an If-Match or If-None-Match header: "*", or a list of
// ETags this API returned ("3", W/"3"; a bare revision 3 is accepted too,
// as documented).
type entityTags struct {
	any    bool
	strong []uint64 // revisions of strong tags
	weak   []uint64 // revisions of weak tags
}

// matches compares strongly (If-Match, RFC 9110 §13.1.1) or weakly
// (If-None-Match, §13.1.2).
func (t *entityTags) matches(rev uint64, weak bool) bool {
	return t.any || slices.Contains(t.strong, rev) || weak && slices.Contains(t.weak, rev)
}

// readEntityTags reads header name; nil when it is absent. Empty is
// malformed, not absent, and so is a tag this API cannot have returned:
// "03" or an unbalanced quote must not match revision 3. Empty list
// elements are skipped (RFC 9110 §5.6.1.2). foreign, for a read, takes a
// tag this API cannot have returned (a proxy's "1-gzip") for one that
// matches nothing instead.
func readEntityTags(r *http.Request, name string, foreign bool) (*entityTags, error) {
	values, given := r.Header[name]
	if !given {
		return nil, nil
	}
	malformed := errs.Invalid(CodeBadParameter, name, "%s must be * or a list of ETags returned by this API", name)
	list := strings.TrimSpace(strings.Join(values, ","))
	if list == "*" {
		return &entityTags{any: true}, nil
	}
	tags := &entityTags{}
	for _, item := range strings.Split(list, ",") {
		tag := strings.TrimSpace(item)
		if tag == "" {
			continue
		}
		weak := strings.HasPrefix(tag, "W/")
		tag = strings.TrimPrefix(tag, "W/")
		if len(tag) >= 2 && tag[0] == '"' && tag[len(tag)-1] == '"' {
			tag = tag[1 : len(tag)-1]
		}
		rev, err := strconv.ParseUint(tag, 10, 64)
		if err != nil || rev == 0 || strconv.FormatUint(rev, 10) != tag {
			if foreign {
				continue
			}
			return nil, malformed
		}
		if weak {
			tags.weak = append(tags.weak, rev)
		} else {
			tags.strong = append(tags.strong, rev)
		}
	}
	if len(tags.strong)+len(tags.weak) == 0 && !foreign {
		return nil, malformed // only empty elements
	}
	return tags, nil
}

// WritePrecondition evaluates If-Match and If-None-Match of a write of one
// profile (RFC 9110 §13.2.2) and returns the revision the write must find
// (profile.ReplaceOptions.IfMatch: 0 for none), so the store checks it in
// the write's own transaction. current reads the profile's revision (a
// missing profile is its error); it is called only when the headers cannot
// be checked otherwise: a list of tags, or If-None-Match. The revision it
// read is then the one the write must find, so a change between the two is
// 412, never a write the headers forbid.
func WritePrecondition(r *http.Request, current func() (uint64, error)) (uint64, error) {
	ifMatch, err := readEntityTags(r, "If-Match", false)
	if err != nil {
		return 0, err
	}
	ifNoneMatch, err := readEntityTags(r, "If-None-Match", false)
	if err != nil {
		return 0, err
	}
	if ifMatch != nil && !ifMatch.any {
		if len(ifMatch.strong) == 0 {
			return profile.NeverMatches, nil // the store answers 412, after 404 for a missing profile
		}
		if len(ifMatch.strong) == 1 && ifNoneMatch == nil {
			return ifMatch.strong[0], nil
		}
	}
	if ifNoneMatch == nil && (ifMatch == nil || ifMatch.any) {
		return 0, nil // a missing profile is 404 from the write itself
	}
	rev, err := current()
	if err != nil {
		return 0, err
	}
	if ifMatch != nil && !ifMatch.matches(rev, false) {
		return 0, errs.E(errs.KindPreconditionFailed, profile.CodeRevisionMismatch,
			"the customer has changed: revision is %d, which If-Match does not name", rev)
	}
	if ifNoneMatch != nil && ifNoneMatch.matches(rev, true) {
		return 0, errs.E(errs.KindPreconditionFailed, profile.CodeRevisionMismatch,
			"the customer is at revision %d, which If-None-Match names", rev)
	}
	return rev, nil
}

// revisions reads a profile's revision without auditing a read.
type revisions interface {
	Revision(ctx context.Context, tenant, id string) (uint64, error)
}

// Revision is a WritePrecondition's current: it reads profile id's revision.
func Revision(ctx context.Context, profiles revisions, tenant, id string) func() (uint64, error) {
	return func() (uint64, error) { return profiles.Revision(ctx, tenant, id) }
}

// notModified reports whether a read of a profile at revision rev is
// answered 304: If-None-Match names it (weakly) or is "*".
func notModified(r *http.Request, rev uint64) (bool, error) {
	tags, err := readEntityTags(r, "If-None-Match", true)
	if err != nil || tags == nil {
		return false, err
	}
	return tags.matches(rev, true), nil
}
