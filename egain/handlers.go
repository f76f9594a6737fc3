package egain

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
)

// maxEditAttempts bounds the optimistic-concurrency retries of an edit.
const maxEditAttempts = 4

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
	userKey, addrKey := "user:"+strings.ToLower(in.UserName), "addr:"+clientIP(c)
	wait, err := f.throttle.retryAfter(userKey, addrKey)
	if err != nil { // not blocked: see throttle for why
		f.log.Error().Err(err).Msg("egain login throttle cannot read failed logins; not throttling")
	}
	if wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		f.log.Warn().Str("user", in.UserName).Str("addr", clientIP(c)).Msg("egain login throttled")
		return errs.E(errs.KindTooManyRequests, CodeThrottled, "too many failed logins; retry later")
	}
	u := f.users[strings.ToLower(in.UserName)]
	hash := f.dummyHash
	if u != nil {
		hash = u.hash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(in.Password)) != nil || u == nil {
		if err := f.throttle.fail(userKey, addrKey); err != nil {
			// A failure the throttle cannot count is not answered 401, which
			// would differ from a right password's failure to open a session.
			return err
		}
		return errs.E(errs.KindUnauthorized, CodeBadCredentials, "user name or password is wrong")
	}
	if err := f.throttle.reset(userKey); err != nil {
		// The login stands; the user's failures leave the window by themselves.
		f.log.Error().Err(err).Msg("egain login throttle cannot clear failed logins")
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

// clientIP is the peer address, or what the server's configured
// IPExtractor says; forwarding headers are not trusted by default, so a
// client cannot dodge the login throttle by inventing them.
func clientIP(c echo.Context) string {
	if x := c.Echo().IPExtractor; x != nil {
		return x(c.Request())
	}
	return echo.ExtractIPDirect()(c.Request())
}

func (f *Facade) logout(c echo.Context) error {
	format, err := negotiate(c)
	if err != nil {
		return err
	}
	id := c.Request().Header.Get(SessionHeader)
	if err := f.sessions.close(id); err != nil {
		return err
	}
	return noContent(c, format, id, http.StatusNoContent)
}

func (f *Facade) create(c echo.Context) error {
	r, err := f.authenticate(c, config.PermCreateCustomer)
	if err != nil {
		return err
	}
	cust, err := decodeRequest(c, DecodeCustomer)
	if err != nil {
		return err
	}
	if err := ValidateForCreate(cust, f.validate); err != nil {
		return err
	}
	if cust.Department == nil || str(cust.Department.Name) == "" {
		cust.Department = &Department{Name: Str(f.cfg.DefaultDepartment)}
	}
	if !f.mayAccess(r, cust) {
		return departmentDenied(cust)
	}
	for i := range cust.ContactPersons { // ids are the server's to give
		cust.ContactPersons[i].ID = nil
		cust.ContactPersons[i].ContactPoints = withoutIDs(cust.ContactPersons[i].ContactPoints)
	}
	allocateIDs(cust)
	ctx := c.Request().Context()
	if err := f.checkEmailsFree(ctx, r.tenant, cust, ""); err != nil {
		return err
	}
	body, err := f.mapper.profileBody(cust, nil)
	if err != nil {
		return err
	}
	// The unique key closes the race between the check above and the write.
	p, err := f.profiles.Create(ctx, r.tenant, body, profile.CreateOptions{UniqueKeys: []string{f.mapper.Keys.Email}})
	if err != nil {
		return emailTaken(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, BasePath+"/interaction/customer/"+strconv.FormatUint(p.Num, 10))
	return noContent(c, r.format, r.session, http.StatusCreated)
}

// checkEmailsFree refuses an e-mail address that a customer other than
// self (a customer_id, "" on create) already has (spec §3.3).
func (f *Facade) checkEmailsFree(ctx context.Context, tenant string, c *Customer, self string) error {
	emails, err := emailAddresses(c)
	if err != nil {
		return err
	}
	for _, e := range emails {
		ids, err := f.profiles.Lookup(ctx, tenant, f.mapper.Keys.Email, []string{e.(string)}, 2)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if id != self {
				return duplicateEmail(e.(string))
			}
		}
	}
	return nil
}

func (f *Facade) edit(c echo.Context) error {
	r, err := f.authenticate(c, config.PermEditCustomer)
	if err != nil {
		return err
	}
	body, err := decodeRequest(c, DecodeCustomer)
	if err != nil {
		return err
	}
	// A first pass checks the id and everything that does not depend on the
	// stored type; the type-specific rules run once the customer is read.
	if err := ValidateForEdit(body, f.validate); err != nil {
		return err
	}
	num, err := strconv.ParseUint(*body.ID, 10, 64)
	if err != nil {
		return errs.Invalid(CodeInvalidValue, "id", "id is out of range")
	}
	unlock := f.lockCustomer(num)
	defer unlock()
	for range maxEditAttempts {
		if err = f.editOnce(c.Request().Context(), r, num, *body); !errs.Is(err, errs.KindPreconditionFailed) {
			break
		}
	}
	if errs.Is(err, errs.KindPreconditionFailed) { // its message names the Genesys customer_id
		return errs.E(errs.KindUnavailable, CodeUnavailable, "customer %d kept changing during the edit; retry", num)
	}
	if err != nil {
		return err
	}
	return noContent(c, r.format, r.session, http.StatusNoContent)
}

// lockCustomer serialises the edits of customer num within this process, so
// concurrent eGain edits queue instead of exhausting their revision retries;
// the retry on 412 is left for writers elsewhere (the Genesys API, another
// replica). Customers share a fixed set of mutexes; a collision only queues.
func (f *Facade) lockCustomer(num uint64) (unlock func()) {
	m := &f.editLocks[num%uint64(len(f.editLocks))]
	m.Lock()
	return m.Unlock
}

// emailTaken turns the store's unique-key refusal (a create or edit that
// lost the race against the e-mail check) into the e-mail error clients
// expect; the store's message would name the other customer's Genesys id.
func emailTaken(err error) error {
	if e := errs.As(err); e != nil && e.Code == profile.CodeUniqueKeyViolation {
		return errs.Invalid(CodeDuplicateEmail, "emailAddress", "an e-mail address of this customer already belongs to a contact point")
	}
	return err
}

// editOnce applies body onto the stored customer num and writes it if the
// profile has not changed since it was read (412 otherwise).
func (f *Facade) editOnce(ctx context.Context, r *request, num uint64, body Customer) error {
	p, err := f.profiles.GetByNum(ctx, r.tenant, num, f.mapper.extensions())
	if err != nil {
		return err
	}
	cur, err := f.mapper.customerOf(p)
	if err != nil {
		return err
	}
	if !f.mayAccess(r, &cur) {
		return departmentDenied(&cur)
	}
	opts := f.validate
	opts.StoredType = typeOf(&cur)
	if err := ValidateForEdit(&body, opts); err != nil {
		return err
	}
	if err := applyEdit(&cur, body, num); err != nil {
		return err
	}
	if !f.mayAccess(r, &cur) { // the edit moved it to another department
		return departmentDenied(&cur)
	}
	if err := f.checkEmailsFree(ctx, r.tenant, &cur, p.ID); err != nil {
		return err
	}
	write, err := f.mapper.profileBody(&cur, p)
	if err != nil {
		return err
	}
	// The unique key closes the race between the check above and the write.
	_, err = f.profiles.Replace(ctx, r.tenant, p.ID, write, profile.ReplaceOptions{IfMatch: p.Rev, UniqueKeys: []string{f.mapper.Keys.Email}})
	return emailTaken(err)
}

func (f *Facade) getByIDs(c echo.Context) error {
	r, err := f.authenticate(c, config.PermViewAgentConsole)
	if err != nil {
		return err
	}
	q, err := ParseGetByIDs(c.Param("ids"), c.QueryParams(), f.cfg.CustomAttributes.Customer)
	if err != nil {
		return err
	}
	nums := make([]uint64, len(q.IDs))
	for i, id := range q.IDs {
		nums[i], _ = strconv.ParseUint(id, 10, 64) // ParseGetByIDs checked them
	}
	ctx := c.Request().Context()
	ids, err := f.profiles.IDsByNum(ctx, r.tenant, nums)
	if err != nil {
		return err
	}
	items, err := f.load(ctx, r.tenant, ids, nil)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return errs.NotFound(CodeNotFound, "no customer with id %s exists", strings.Join(q.IDs, ","))
	}
	for _, it := range items {
		if !f.mayAccess(r, &it.customer) {
			return departmentDenied(&it.customer)
		}
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
	ctx := c.Request().Context()
	cand, err := f.match(ctx, r.tenant, q)
	if err != nil {
		return err
	}
	matches, exts, err := filter(f.profiles.Schema(), cand.check)
	if err != nil {
		return err
	}
	items, err := f.load(ctx, r.tenant, cand.ids, matches, exts...)
	if err != nil {
		return err
	}
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
	page := window(visible, q.Page)
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

// load reads profiles ids as published customers, skipping those keep (if
// not nil) refuses; exts are extensions keep reads on top of those the
// mapping needs.
func (f *Facade) load(ctx context.Context, tenant string, ids []string, keep func(*profile.Profile) bool, exts ...string) ([]item, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ps, err := f.profiles.GetMany(ctx, tenant, ids, append(f.mapper.extensions(), exts...))
	if err != nil {
		return nil, err
	}
	items := make([]item, 0, len(ps))
	for _, p := range ps {
		if keep != nil && !keep(p) {
			continue
		}
		c, err := f.mapper.customerOf(p)
		if err != nil {
			return nil, err
		}
		publish(&c, p)
		items = append(items, item{profile: p, customer: c})
	}
	return items, nil
}

func (f *Facade) writeCustomers(c echo.Context, r *request, items []item, a Attributes) error {
	out := make([]Customer, len(items))
	for i, it := range items {
		out[i] = it.customer.Project(a)
	}
	var buf bytes.Buffer
	if err := EncodeCustomers(r.format, &buf, selfHref(c.Request()), out); err != nil {
		return err
	}
	c.Response().Header().Set(SessionHeader, r.session)
	return c.Blob(http.StatusOK, r.format.ContentType(), buf.Bytes())
}

// selfHref echoes the request URL under the /system context root.
func selfHref(r *http.Request) string {
	href := "/system" + strings.TrimPrefix(r.URL.Path, "/system")
	if r.URL.RawQuery != "" {
		href += "?" + r.URL.RawQuery
	}
	return href
}

// decodeRequest decodes the request body with decode, in the format its
// Content-Type names.
func decodeRequest[T any](c echo.Context, decode func(Format, io.Reader, Limits) (*T, error)) (*T, error) {
	in, err := requestFormat(c)
	if err != nil {
		return nil, err
	}
	body, err := requestBody(c)
	if err != nil {
		return nil, err
	}
	return decode(in, body, Limits{})
}
