package egain

import (
	"strings"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
)

// departments are the configured departments (egain.departments): customers
// carry a department's id and name, and clients may give either.
type departments []config.EGainDepartment

func (ds departments) byName(name string) (config.EGainDepartment, bool) {
	for _, d := range ds {
		if strings.EqualFold(d.Name, name) {
			return d, true
		}
	}
	return config.EGainDepartment{}, false
}

// resolve completes a department a client sent: an id gives the name (an
// unknown id, or a name contradicting it, is refused); a configured name
// gives the id. A name not configured stays as sent, without an id.
func (ds departments) resolve(d *Department) error {
	if d == nil {
		return nil
	}
	if id := str(d.ID); id != "" {
		for _, c := range ds {
			if c.ID == id {
				if name := str(d.Name); name != "" && !strings.EqualFold(name, c.Name) {
					return errs.Invalid(CodeInvalidValue, "department", "department id %s is %q, not %q", id, c.Name, name)
				}
				d.Name = Str(c.Name)
				return nil
			}
		}
		return errs.Invalid(CodeInvalidValue, "department.id", "department id %s is not configured (egain.departments)", id)
	}
	ds.withID(d)
	return nil
}

// withID sets the id of a configured department named by d.
func (ds departments) withID(d *Department) {
	if c, ok := ds.byName(str(d.Name)); ok {
		d.ID, d.Name = Str(c.ID), Str(c.Name)
	}
}
