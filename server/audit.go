package server

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/contactcenter/profiled/profile"
)

// CodeInvalidAuditQuery refuses a malformed GET /admin/audit query.
const CodeInvalidAuditQuery = "INVALID_AUDIT_QUERY"

// auditHandler serves GET /admin/audit?customer_id=&actor=&op=&from=&to=&limit=&before=
// (admin-protected): the tenant's audit entries, newest first, a page at
// a time; "next" continues.
func (a *App) auditHandler(c echo.Context) error {
	tenant, err := httpin.Tenant(c.Request().Header)
	if err != nil {
		return err
	}
	q, err := ParseAuditQuery(c.QueryParams())
	if err != nil {
		return err
	}
	page, err := a.Profiles.Audit(c.Request().Context(), tenant, q)
	if err != nil {
		return err
	}
	if page.Next != "" {
		next := c.QueryParams()
		next.Set("before", page.Next)
		c.Response().Header().Set("Link", `<`+c.Request().URL.Path+"?"+next.Encode()+`>; rel="next"`)
	}
	return c.JSON(http.StatusOK, page)
}

// ParseAuditQuery reads the parameters of an audit listing; the same names are
// the flags of `profiled audit`.
func ParseAuditQuery(params map[string][]string) (profile.AuditQuery, error) {
	var q profile.AuditQuery
	for _, name := range slices.Sorted(maps.Keys(params)) { // errors name the same parameter every time
		values := params[name]
		if len(values) != 1 {
			return q, errs.Invalid(CodeInvalidAuditQuery, name, "%s is given %d times", name, len(values))
		}
		v := values[0]
		if v == "" && name != "before" { // an empty filter would list every customer's entries; an empty cursor is the first page
			return q, errs.Invalid(CodeInvalidAuditQuery, name, "%s is empty; leave it out to list everything", name)
		}
		var err error
		switch name {
		case "customer_id":
			q.CustomerID = v
		case "actor":
			q.Actor = v
		case "op":
			q.Op = v
			// An operation, or the server mode with its qualifier (server.mode.production).
			if !slices.Contains(profile.Ops, v) && v != profile.OpServerMode+"."+ModeProduction && v != profile.OpServerMode+"."+ModeMaintenance {
				err = errs.Invalid(CodeInvalidAuditQuery, name, "unknown operation %q (%s)", v, strings.Join(profile.Ops, ", "))
			}
		case "before":
			q.Before = v
		case "from":
			q.From, err = auditTime(name, v, false)
		case "to":
			q.To, err = auditTime(name, v, true)
		case "limit":
			n, perr := strconv.Atoi(v)
			if perr != nil || n < 1 || n > 1000 {
				err = errs.Invalid(CodeInvalidAuditQuery, name, "limit must be a number from 1 to 1000")
			}
			q.Limit = n
		default:
			err = errs.Invalid(CodeInvalidAuditQuery, name, "unknown parameter %q (customer_id, actor, op, from, to, limit, before)", name)
		}
		if err != nil {
			return q, err
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return q, errs.Invalid(CodeInvalidAuditQuery, "to", "to is before from")
	}
	return q, nil
}

// auditTime reads an RFC 3339 time or a date (UTC): a date starts a
// range at its first instant and ends one at its last, so from=D&to=D is
// the whole day D. An end before the Unix epoch, which no entry predates,
// is the epoch: the zero time (0001-01-01T00:00:00Z) means no bound.
func auditTime(name, v string, end bool) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		if t, err = time.Parse(time.DateOnly, v); err == nil && end {
			t = t.Add(24*time.Hour - time.Nanosecond)
		}
	}
	if err == nil {
		if epoch := time.Unix(0, 0).UTC(); end && t.Before(epoch) {
			t = epoch
		}
		return t, nil
	}
	return time.Time{}, errs.Invalid(CodeInvalidAuditQuery, name, "%s must be an RFC 3339 time (2026-12-01T10:00:00Z) or a date (2026-12-01)", name)
}

// auditReads applies audit.reads: a counter per actor, or an entry per read.
func (a *App) auditReads() error {
	switch a.Config.Audit.Reads {
	case config.AuditReadsCount:
		reads := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "profiled_audit_reads_total",
			Help: "Profile reads by actor (audit.reads: true).",
		}, []string{"actor"})
		if err := a.Metrics.Register(reads); err != nil {
			return err
		}
		a.Profiles.Reads = profile.ReadsCount
		a.Profiles.OnRead = func(actor string) { reads.WithLabelValues(actor).Inc() }
	case config.AuditReadsEvery:
		a.Profiles.Reads = profile.ReadsEvery
	}
	return nil
}

// sweepAudit deletes entries past audit.retention_days now and every
// audit.sweep_every until the app closes. Every replica sweeps; deleting
// what another already deleted costs nothing.
func (a *App) sweepAudit() {
	// The config bounds the days; min keeps a larger value (an App built
	// without config.Load) from overflowing into a cutoff in the future.
	retention := time.Duration(min(a.Config.Audit.RetentionDays, config.MaxAuditRetentionDays)) * 24 * time.Hour
	a.bgActive.Go(func() {
		tick := time.NewTicker(a.Config.Audit.SweepEvery)
		defer tick.Stop()
		for {
			start := time.Now()
			n, err := a.Profiles.SweepAudit(a.bg, start.Add(-retention))
			switch {
			case err != nil && a.bg.Err() == nil:
				a.Log.Error().Err(err).Int("deleted", n).Msg("audit retention sweep failed; it runs again later")
			case n > 0:
				a.Log.Info().Int("deleted", n).Dur("took_ms", time.Since(start)).Int("retention_days", a.Config.Audit.RetentionDays).Msg("audit entries past retention deleted")
			}
			select {
			case <-a.bg.Done():
				return
			case <-tick.C:
			}
		}
	})
}
