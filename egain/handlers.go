package egain

import (
	"errors"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

func (f *Facade) login(c echo.Context) error {
	format, err := negotiate(c)
	if err != nil {
		return err
	}
	force, err := forceLogin(c)
	if err != nil {
		return err
	}
	in, err := decodeRequest(c, DecodeLogin)
	if err != nil {
		return err
	}
	userName, addr := strings.ToLower(in.UserName), httpin.ClientIP(c)
	wait, err := f.throttle.RetryAfter(userName, addr)
	if err != nil { // not blocked: see throttle for why
		// A warning of this request: when the store is down, the request's
		// own line is the error (the session cannot be opened either).
		f.log.Warn().Err(err).Str("request_id", c.Response().Header().Get(echo.HeaderXRequestID)).
			Msg("egain login throttle cannot read failed logins; not throttling")
	}
	if wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		f.log.Warn().Str("user", httpin.Shorten(in.UserName)).Str("addr", addr).Msg("egain login throttled")
		return errs.E(errs.KindTooManyRequests, CodeThrottled, "too many failed logins; retry later")
	}
	u := f.users[strings.ToLower(in.UserName)]
	var hash []byte
	if u != nil {
		hash = u.hash
	}
	// One check of the user's password at a time, after the failures of
	// those before it (session.Logins.Serialize).
	unlock := f.throttle.Serialize(userName)
	defer unlock()
	if wait, _ := f.throttle.RetryAfter(userName, addr); wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return errs.E(errs.KindTooManyRequests, CodeThrottled, "too many failed logins; retry later")
	}
	if !f.passwords.Match(hash, in.Password) {
		if err := f.throttle.Fail(userName, addr); err != nil {
			// A failure the throttle cannot count is not answered 401, which
			// would differ from a right password's failure to open a session.
			return err
		}
		return errs.E(errs.KindUnauthorized, CodeBadCredentials, "user name or password is wrong")
	}
	if err := f.throttle.Succeeded(userName); err != nil {
		// The login stands; the user's failures leave the window by themselves.
		f.log.Warn().Err(err).Str("request_id", c.Response().Header().Get(echo.HeaderXRequestID)).
			Msg("egain login throttle cannot clear failed logins")
	}
	id, err := f.sessions.open(u.name, force)
	if err != nil {
		return err
	}
	f.log.Info().Str("user", u.name).Bool("force", force).Msg("egain login")
	return noContent(c, format, id, http.StatusNoContent)
}

// forceLogin reads the login query: only forceLogin=yes is allowed.
func forceLogin(c echo.Context) (bool, error) {
	vals, names, err := singleValues(c.QueryParams())
	if err != nil {
		return false, err
	}
	for _, name := range names {
		if name != "forceLogin" {
			return false, unknownParam(name)
		}
		if vals[name] != "yes" {
			return false, badParam(name, "forceLogin only takes the value yes")
		}
	}
	return len(names) > 0, nil
}

func (f *Facade) logout(c echo.Context) error {
	format, err := negotiate(c)
	if err != nil {
		return err
	}
	if err := noQuery(c, "logout"); err != nil {
		return err
	}
	id := sessionID(c.Request())
	if err := f.sessions.close(id); err != nil {
		return err
	}
	return noContent(c, format, id, http.StatusNoContent)
}

// noQuery refuses any query parameter on a route that takes none (the
// vendor's logout, create and edit define none), as every other route
// refuses one it does not know: a write must not succeed with a
// parameter the client thought meant something.
func noQuery(c echo.Context, route string) error {
	if names := slices.Sorted(maps.Keys(c.QueryParams())); len(names) > 0 {
		return errs.Invalid(CodeUnknownParameter, names[0], "%s takes no query parameter, not %q", route, names[0])
	}
	return nil
}

func (f *Facade) create(c echo.Context) error {
	r, err := f.authenticate(c, config.PermCreateCustomer)
	if err != nil {
		return err
	}
	if err := noQuery(c, "create"); err != nil {
		return err
	}
	cust, err := decodeRequest(c, DecodeCustomer)
	if err != nil {
		return err
	}
	if err := f.mapper.departments.resolve(cust.Department); err != nil {
		return err
	}
	if err := ValidateForCreate(cust, f.validate); err != nil {
		return err
	}
	if cust.Department == nil || str(cust.Department.Name) == "" {
		cust.Department = &Department{Name: Str(f.cfg.DefaultDepartment)}
		f.mapper.departments.withID(cust.Department)
	}
	if !f.mayAccess(r, cust) {
		return departmentDenied(cust)
	}
	for i := range cust.ContactPersons { // ids are the server's to give
		cust.ContactPersons[i].ID = nil
		cust.ContactPersons[i].ContactPoints = withoutIDs(cust.ContactPersons[i].ContactPoints)
	}
	allocateIDs(cust, 0)
	cust.CreatedBy = nil // output only: the server's to give
	if r.user.id != "" {
		cust.CreatedBy = &UserRef{ID: Str(r.user.id)}
	}
	ctx := c.Request().Context()
	m := f.mapping()
	body, err := m.profileBody(cust, nil, m.keepsCreator(f.profiles.Schema()))
	if err != nil {
		return err
	}
	// The e-mail key is checked unique inside the write: two creates with
	// one address, on any replicas, cannot both pass.
	p, err := f.profiles.Create(ctx, r.tenant, body, profile.CreateOptions{UniqueKeys: []string{f.mapper.Keys.Email}, AnyWords: true})
	if err != nil {
		return f.inEGainWords(err, cust)
	}
	c.Response().Header().Set(echo.HeaderLocation, BasePath+"/interaction/customer/"+strconv.FormatUint(p.Num, 10))
	return noContent(c, r.format, r.session, http.StatusCreated)
}

func (f *Facade) edit(c echo.Context) error {
	r, err := f.authenticate(c, config.PermEditCustomer)
	if err != nil {
		return err
	}
	if err := noQuery(c, "edit"); err != nil {
		return err
	}
	body, err := decodeRequest(c, DecodeCustomer)
	if err != nil {
		return err
	}
	// A first pass checks the whole body without the stored customer. Only
	// a bad id is answered at once: the rest is checked again once the
	// customer is read, on what the edit changes (withoutUnchanged), and the
	// first pass's refusal stands where there is no such customer.
	first := f.validate
	first.Unread = true
	unread := ValidateForEdit(body, first)
	if e := errs.As(unread); e != nil && e.Field == "id" {
		return unread
	}
	num, _, _ := customerNum(*body.ID) // ValidateForEdit checked it
	exts := func(under *schema.Compiled) []string { return f.mappingFor(under).extensions() }
	_, err = f.profiles.EditByNum(c.Request().Context(), r.tenant, num, exts, func(under *schema.Compiled, p *profile.Profile) (map[string]any, error) {
		return f.applyEdit(r, f.mappingFor(under), under, num, *body, p)
	}, profile.ReplaceOptions{UniqueKeys: []string{f.mapper.Keys.Email}, AnyWords: true})
	if unread != nil && errs.Is(err, errs.KindNotFound) {
		return unread
	}
	if err != nil {
		return f.inEGainWords(err, body)
	}
	return noContent(c, r.format, r.session, http.StatusNoContent)
}

// inEGainWords words the domain's refusals of a write of customer c in
// eGain terms: a unique-key refusal is the e-mail error clients expect
// (400-107; the store's message would name the other customer's Genesys
// id), and an index value too long of the custom attribute extension is a
// custom attribute's (the only eGain field the shipped keys index that can
// reach the bound; another key's keeps the domain's words).
func (f *Facade) inEGainWords(err error, c *Customer) error {
	if e := errs.As(err); e != nil && e.Code == profile.CodeIndexValueTooLong && f.isCustomAttributeField(e.Field) {
		return errs.Invalid(CodeValueTooLong, "customAttributes", "a custom attribute is too long to be searched by: its name and value may take at most %d bytes in UTF-8 together", profile.MaxIndexedBytes)
	}
	var taken *profile.TakenValues
	if errs.Is(err, errs.KindConflict) && errors.As(err, &taken) && !schema.SameName(taken.Key, f.mapper.Keys.Email) {
		// Another unique key: not an e-mail clash, and the store's message
		// names the other customer's Genesys id.
		return errs.Invalid(CodeInvalidValue, "", "the values of the unique identification key %s are another customer's", taken.Key)
	}
	return emailTaken(err, c)
}

// isCustomAttributeField reports whether field (extension.attributes)
// names the custom attribute extension.
func (f *Facade) isCustomAttributeField(field string) bool {
	ext, _, _ := strings.Cut(field, ".")
	return schema.SameName(ext, f.mapper.CustomAttributes.Extension)
}

// emailTaken turns the store's unique-key refusal into 400-107, naming the
// address as the client wrote it (the index holds it folded).
func emailTaken(err error, c *Customer) error {
	if e := errs.As(err); e != nil && e.Code == profile.CodeUniqueKeyViolation {
		var taken *profile.TakenValues
		if errors.As(err, &taken) && len(taken.Values) == 1 {
			addr := taken.Values[0]
			sent, _ := emailAddresses(c, nil)
			for _, a := range sent {
				if schema.IndexText(a) == taken.Values[0] {
					addr = a.(string)
				}
			}
			return duplicateEmail(addr)
		}
		return errs.Invalid(CodeDuplicateEmail, "emailAddress", "an e-mail address of this customer already belongs to a contact point")
	}
	return err
}

// applyEdit applies body onto the stored customer num (profile p, read
// under schema c, which m is resolved against) and returns the profile
// body to store. It runs inside the edit's transaction, so it only
// computes.
func (f *Facade) applyEdit(r *request, m mapper, c *schema.Compiled, num uint64, body Customer, p *profile.Profile) (map[string]any, error) {
	cur := m.customerOf(p)
	if !f.mayAccess(r, &cur) {
		return nil, departmentDenied(&cur)
	}
	opts := f.validate
	opts.StoredType, opts.StoredName = typeOf(&cur), individualName(&cur)
	if cur.PreferredAgent != nil {
		opts.StoredAgent = str(cur.PreferredAgent.ID)
	}
	opts.StoredEmails = map[string]bool{}
	for _, a := range attrStrings(p.Attributes[m.Email]) {
		opts.StoredEmails[schema.Fold(a)] = true
	}
	if err := listRules(&body); err != nil {
		return nil, err
	}
	if opts.StoredType == TypeIndividual && body.CustomerName != nil && sameText(*body.CustomerName, opts.StoredName) {
		body.CustomerName = nil // the name shown, sent back: derived output
	}
	changes, sent := withoutUnchanged(&body, &cur, num)
	// A department sent back as read is no change, configured or not (a
	// Genesys client may have written it); a new one must be configured.
	if err := f.mapper.departments.resolve(changes.Department); err != nil {
		return nil, err
	}
	// An empty department would move the customer to the default one (and
	// out of sight of some users): where departments are required, it is
	// missing, as on create, whoever sends it.
	if d := changes.Department; opts.Departmentalization && d != nil && str(d.Name) == "" && str(d.ID) == "" {
		return nil, sent.inBody(missing("department.name"))
	}
	if err := ValidateForEdit(&changes, opts); err != nil {
		return nil, sent.inBody(err)
	}
	if opts.StoredType == TypeIndividual {
		changes.CustomerName = nil // the name follows the person
	}
	changes.CreatedBy = nil // output only
	phones, addresses, shown := valuesByPoint(&cur, kindPhone), valuesByPoint(&cur, kindEmail), pointIDs(&cur)
	if err := applyEdit(&cur, changes, num, m.storedIDFloor(p)); err != nil {
		return nil, err
	}
	if !f.mayAccess(r, &cur) { // the edit moved it to another department
		return nil, departmentDenied(&cur)
	}
	return m.profileBody(&cur, &editBase{profile: p, renamedPhones: renamedPhones(phones, &cur), emailsBefore: addresses, shownPoints: shown}, m.keepsCreator(c))
}

func (f *Facade) getByIDs(c echo.Context) error {
	r, err := f.authenticate(c, config.PermViewAgentConsole)
	if err != nil {
		return err
	}
	// encodeURIComponent and most HTTP libraries send the list as 7%2C8:
	// httpin.UnescapeParams, which the server runs on every route, has
	// decoded it once already.
	q, err := ParseGetByIDs(c.Param("ids"), c.QueryParams(), f.cfg.CustomAttributes.Customer)
	if err != nil {
		return err
	}
	nums := make([]uint64, len(q.IDs))
	for i, id := range q.IDs {
		nums[i], _ = strconv.ParseUint(id, 10, 64) // ParseGetByIDs checked them
	}
	items, err := f.loadByNums(c, r, nums, strings.Join(q.IDs, ","))
	if err != nil {
		return err
	}
	if q.Sort != "" {
		sortItems(items, q.Sort, q.Desc)
	}
	return f.writeCustomers(c, r, items, q.Attributes)
}

func (f *Facade) search(c echo.Context) error {
	r, err := f.authenticate(c, config.PermViewAgentConsole)
	if err != nil {
		return err
	}
	q, err := ParseSearchQuery(c.QueryParams(), f.cfg.CustomAttributes.Customer)
	if err != nil {
		return err
	}
	var (
		cand candidates
		page []item
	)
	err = f.profiles.Read(c.Request().Context(), r.tenant, func(rd profile.Reader) error {
		var err error
		if cand, err = f.match(rd, q); err != nil {
			return err
		}
		if err := cand.checkOrder(q.Sort, q.Desc); err != nil {
			return err // before anything is loaded (or audited as read)
		}
		under := rd.Schema()
		m := f.mappingFor(under)
		matches, exts, err := filter(under, cand.check)
		if err != nil {
			return err
		}
		// Candidates that all fit in the page (an e-mail or a phone search,
		// nearly always) are read whole, once. More are read first with
		// what the tests, department access and sort keys read (the
		// customer-level record and custom attributes), not their contact
		// persons and points: up to 1000 customers are candidates, and
		// only the page is answered.
		whole := len(cand.ids) <= q.Page.Limit
		var found []*profile.Profile
		if whole {
			found, err = f.read(rd, cand.ids, exts...)
		} else {
			found, err = rd.GetMany(cand.ids, append([]string{m.Customer, m.CustomAttributes.Extension}, exts...))
		}
		if err != nil {
			return err
		}
		items := itemsOf(m, found, matches)
		visible := items[:0]
		for _, it := range items {
			if f.mayAccess(r, &it.customer) {
				visible = append(visible, it)
			}
		}
		if err := cand.checkWindow(q.Page, len(visible)); err != nil {
			return err
		}
		sortItems(visible, q.Sort, q.Desc)
		chosen := window(visible, q.Page)
		if whole || len(chosen) == 0 {
			page = chosen
			rd.Answered(profileIDs(page)...) // not the candidates out of reach or past the page: not read
			return nil
		}
		// The page whole, in the same transaction.
		read, err := f.read(rd, profileIDs(chosen))
		if err != nil {
			return err
		}
		page = itemsOf(m, read, nil)
		rd.Answered(profileIDs(page)...)
		return nil
	})
	if err != nil {
		return err
	}
	if len(page) == 0 {
		return noContent(c, r.format, r.session, http.StatusNoContent)
	}
	return f.writeCustomers(c, r, page, q.Attributes)
}

// item is a customer with the profile it was read from.
type item struct {
	profile  *profile.Profile
	customer Customer
}

// read reads profiles ids with the extensions the mapping needs and exts
// (those a search's tests read).
func (f *Facade) read(rd profile.Reader, ids []string, exts ...string) ([]*profile.Profile, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return rd.GetMany(ids, append(f.mappingFor(rd.Schema()).extensions(), exts...))
}

// itemsOf maps profiles ps, read under the schema m is resolved against,
// to published customers, skipping those keep (if not nil) refuses.
func itemsOf(m mapper, ps []*profile.Profile, keep func(*profile.Profile) bool) []item {
	items := make([]item, 0, len(ps))
	for _, p := range ps {
		if keep != nil && !keep(p) {
			continue
		}
		c := m.customerOf(p)
		publish(&c, p)
		items = append(items, item{profile: p, customer: c})
	}
	return items
}

// loadByNums reads the customers with numeric ids nums that the caller may
// see: 404 when none exists, 403 when one is of a department out of reach.
// named is how the answer names the ids.
func (f *Facade) loadByNums(c echo.Context, r *request, nums []uint64, named string) ([]item, error) {
	var items []item
	err := f.profiles.Read(c.Request().Context(), r.tenant, func(rd profile.Reader) error {
		ids, err := rd.IDsByNum(nums)
		if err != nil {
			return err
		}
		found, err := f.read(rd, ids)
		if err != nil {
			return err
		}
		items = itemsOf(f.mappingFor(rd.Schema()), found, nil)
		// Refused inside the read, so that what the caller may not see is
		// not noted as read by it: nothing of it is answered.
		for _, it := range items {
			if !f.mayAccess(r, &it.customer) {
				return departmentDenied(&it.customer)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errs.NotFound(CodeNotFound, "no customer with id %s exists", named)
	}
	return items, nil
}

// profileIDs are the customer ids of items.
func profileIDs(items []item) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.profile.ID
	}
	return ids
}

func (f *Facade) writeCustomers(c echo.Context, r *request, items []item, a Attributes) error {
	out := make([]Customer, len(items))
	for i, it := range items {
		out[i] = it.customer.Project(a)
	}
	buf := bodies.Get().(*[]byte)
	*buf = appendCustomers((*buf)[:0], r.format, selfHref(c.Request()), out)
	c.Response().Header().Set(SessionHeader, r.session)
	err := c.Blob(http.StatusOK, r.format.ContentType(), *buf)
	if cap(*buf) <= maxPooledBody {
		bodies.Put(buf)
	}
	return err
}

// bodies are the buffers answers are encoded into, reused once sent (as
// the Genesys API does): the encoder's own buffer and its copy here cost
// every search and get 2 allocations and about 3 KB.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody bounds the buffers kept: a rare large answer (a search
// page of many customers) is not held for every later one.
const maxPooledBody = 64 << 10

// selfHref echoes the request URL under the /system context root.
func selfHref(r *http.Request) string {
	href := "/system" + strings.TrimPrefix(r.URL.Path, "/system")
	if r.URL.RawQuery != "" {
		href += "?" + r.URL.RawQuery
	}
	return href
}

// decodeRequest decodes the request body with decode, in the format and
// charset its Content-Type names.
func decodeRequest[T any](c echo.Context, decode func(Format, string, io.Reader, Limits) (*T, error)) (*T, error) {
	in, charset, err := requestFormat(c)
	if err != nil {
		return nil, err
	}
	body, err := requestBody(c)
	if err != nil {
		return nil, err
	}
	return decode(in, charset, body, Limits{})
}

// CustomerJSON is profile p as the facade shows it to eGain clients (every
// attribute), as JSON: the eGain view in a data export.
func (f *Facade) CustomerJSON(p *profile.Profile) []byte {
	c := f.mapping().customerOf(p)
	publish(&c, p)
	return encodeCustomerJSON(c)
}
