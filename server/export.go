package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/api"
)

// exportDoc is the document a data subject's request gets (GDPR art. 15):
// everything held about one customer.
type exportDoc struct {
	CustomerID     string                        `json:"customer_id"`
	EGainID        string                        `json:"egain_id"`
	Tenant         string                        `json:"tenant"`
	Created        time.Time                     `json:"created"`
	Updated        time.Time                     `json:"updated"`
	Revision       uint64                        `json:"revision"`
	Attributes     map[string]any                `json:"attributes"`
	Extensions     map[string]any                `json:"extensions"`
	Identification []profile.IdentificationEntry `json:"identification"`
	Audit          []profile.AuditEntry          `json:"audit"`
	EGain          json.RawMessage               `json:"egain,omitempty"`
	ExportedAt     time.Time                     `json:"exported_at"`
}

// exportHandler serves GET /profiles/{id}/export (admin-protected): the
// whole customer as one JSON attachment.
func (a *App) exportHandler(c echo.Context) error {
	return a.export(c, c.Param("id"), 0)
}

// egainExportHandler serves GET /admin/egain/customer/{num}/export: the
// same, for the numeric id eGain clients know.
func (a *App) egainExportHandler(c echo.Context) error {
	id, num, err := a.customerOfNum(c)
	if err != nil {
		return err
	}
	return a.export(c, id, num)
}

// customerOfNum maps the {num} of an eGain admin path to the customer_id.
// The export or erase checks again, in its own transaction, that the
// customer still has num.
func (a *App) customerOfNum(c echo.Context) (string, uint64, error) {
	tenant, err := httpin.Tenant(c.Request().Header)
	if err != nil {
		return "", 0, err
	}
	num, err := strconv.ParseUint(c.Param("num"), 10, 64)
	if err != nil {
		return "", 0, errs.Invalid("INVALID_ID", "num", "the eGain customer id must be a number")
	}
	id, err := a.Profiles.IDByNum(c.Request().Context(), tenant, num)
	if err != nil {
		return "", 0, err
	}
	if id == "" {
		return "", 0, errs.NotFound(profile.CodeProfileNotFound, "customer %d not found", num)
	}
	return id, num, nil
}

// export answers the export of customer id; num, when not 0, is the
// numeric id the request named (profile.Service.Export).
func (a *App) export(c echo.Context, id string, num uint64) error {
	tenant, err := httpin.Tenant(c.Request().Header)
	if err != nil {
		return err
	}
	x, err := a.Profiles.Export(c.Request().Context(), tenant, id, num)
	if err != nil {
		return err
	}
	p := x.Profile
	doc := exportDoc{
		CustomerID: p.ID, EGainID: strconv.FormatUint(p.Num, 10), Tenant: tenant,
		Created: p.Created, Updated: p.Updated, Revision: p.Rev,
		Attributes: p.Attributes, Extensions: map[string]any{}, Identification: x.Identification, Audit: x.Audit,
		ExportedAt: time.Now().UTC(),
	}
	for name, recs := range p.Extensions {
		if len(recs) > 0 {
			doc.Extensions[name] = recs
		}
	}
	if a.EGain != nil {
		doc.EGain = a.EGain.CustomerJSON(p)
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="profile-`+p.ID+`.json"`)
	c.Response().Header().Set("Cache-Control", "no-store") // everything held about a person: kept by no cache
	return c.JSON(http.StatusOK, doc)
}

// eraseHandler serves POST /profiles/{id}/erase (admin-protected): the
// customer is removed and a tombstone kept (profile.Service.Erase).
func (a *App) eraseHandler(c echo.Context) error {
	return a.erase(c, c.Param("id"), 0)
}

// egainEraseHandler serves POST /admin/egain/customer/{num}/erase.
func (a *App) egainEraseHandler(c echo.Context) error {
	id, num, err := a.customerOfNum(c)
	if err != nil {
		a.scrubAfterMissing(c, err)
		return err
	}
	return a.erase(c, id, num)
}

// scrubAfterMissing overwrites the free pages when an erase finds no
// customer: one deleted through the API (a DELETE, or the source of a
// merge) left its values in the data file's free pages, and the erase the
// data-protection team sends afterwards is the only request that can
// reach them. The answer stays the 404.
func (a *App) scrubAfterMissing(c echo.Context, err error) {
	if e := errs.As(err); e == nil || e.Code != profile.CodeProfileNotFound {
		return
	}
	if s, ok := a.Store.(freePageScrubber); ok {
		a.scrubFreePages(c.Request().Context(), s, a.erasures.Add(1))
	}
}

// erase erases customer id; num, when not 0, is the numeric id the request
// named (profile.Service.Erase).
func (a *App) erase(c echo.Context, id string, num uint64) error {
	tenant, err := httpin.Tenant(c.Request().Header)
	if err != nil {
		return err
	}
	// An erase cannot be undone: nothing a client sends is ignored. It
	// takes no body and no query parameter (?dryRun=true must not erase),
	// and an If-Match that is not the profile's revision is 412.
	if c.Request().ContentLength != 0 {
		if body, err := httpin.ReadBody(c.Request(), api.CodeMalformedJSON); err != nil {
			return err
		} else if len(body) > 0 {
			return errs.Invalid(api.CodeBadParameter, "", "an erase takes no body")
		}
	}
	ifMatch, err := api.WritePrecondition(c.Request(), api.Revision(c.Request().Context(), a.Profiles, tenant, id))
	if err != nil {
		return err
	}
	t, err := a.Profiles.Erase(c.Request().Context(), tenant, id, num, ifMatch)
	if err != nil {
		a.scrubAfterMissing(c, err)
		return err
	}
	owed := a.erasures.Add(1)
	// The log holds no customer ids (deploy.md); the audit trail names whom.
	a.Log.Info().Str("tenant", tenant).Str("actor", t.Actor).Msg("customer erased")
	answer := map[string]any{"customer_id": id, "erased_at": t.At, "actor": t.Actor}
	if s, ok := a.Store.(freePageScrubber); ok {
		answer["free_pages_scrubbed"] = a.scrubFreePages(c.Request().Context(), s, owed)
	}
	return c.JSON(http.StatusOK, answer)
}

// freePageScrubber is a store whose deleted values live on in free pages
// until overwritten (bbolt: store.DB.ScrubFreePages).
type freePageScrubber interface {
	ScrubFreePages(ctx context.Context) (int, error)
}

// DefaultEraseScrubWait is App.EraseScrubWait's default.
const DefaultEraseScrubWait = 5 * time.Second

// scrubFreePages overwrites the free pages after an erase, so that the
// erased values are nowhere in the data file; it reports whether that is
// done by the time the erase answers.
func (a *App) scrubFreePages(ctx context.Context, s freePageScrubber, owed uint64) bool {
	wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.EraseScrubWait)
	defer cancel()
	pages, err := s.ScrubFreePages(wait)
	if err == nil {
		a.scrubbed(owed)
		a.Log.Info().Int("pages", pages).Msg("free pages scrubbed after an erase")
		return true
	}
	a.Log.Warn().Err(err).Msg("free pages not yet scrubbed after an erase; going on in the background")
	// One background scrub at a time, however many erases wait on a long
	// reader: a request already waiting covers this erase too, for the
	// scrub it starts lists the free pages after it.
	select {
	case a.scrubRequests <- struct{}{}:
	default:
	}
	a.scrubWorker.Do(func() {
		a.bgActive.Go(func() {
			for {
				select {
				case <-a.bg.Done():
					return
				case <-a.scrubRequests:
				}
				owed := a.erasures.Load() // every erase committed before the scrub lists the pages
				pages, err := s.ScrubFreePages(a.bg)
				switch {
				case err == nil:
					a.scrubbed(owed)
					a.Log.Info().Int("pages", pages).Msg("free pages scrubbed after an erase")
				case a.bg.Err() == nil:
					a.Log.Error().Err(err).Msg("free pages not scrubbed after an erase; the next erase scrubs them")
				}
			}
		})
	})
	return false
}
