package egain

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
)

// caseSearch serves GET /interaction/case?customer=N, the target of every
// customer's cases link: profiled keeps no cases, so a customer the
// caller may see has none (204, as an empty eGain search answers), and an
// unknown one is 404 like a get by id.
func (f *Facade) caseSearch(c echo.Context) error {
	r, err := f.authenticate(c, config.PermViewAgentConsole)
	if err != nil {
		return err
	}
	vals, names, err := singleValues(c.QueryParams())
	if err != nil {
		return err
	}
	for _, name := range names {
		if name != "customer" {
			return errs.Invalid(CodeUnknownParameter, name, "unknown query parameter %q (a case search here takes customer=<id>)", name)
		}
	}
	id, ok := vals["customer"]
	if !ok {
		return errs.Invalid(CodeMissingCriterion, "customer", "customer=<id> is required")
	}
	num, err := strconv.ParseUint(id, 10, 64)
	if err != nil || !isDigits(id, 19) {
		return errs.Invalid(CodeInvalidParameter, "customer", "customer must be a customer id")
	}
	if _, err := f.loadByNums(c, r, []uint64{num}, id); err != nil {
		return err
	}
	return noContent(c, r.format, r.session, http.StatusNoContent)
}
