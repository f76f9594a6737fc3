package config

import (
	"fmt"
	"math"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// EGain configures the eGain Interaction API v12 facade.
type EGain struct {
	// Disabled leaves the facade unmounted, for deployments whose profile
	// schema lacks what the mapping needs.
	Disabled            bool          `yaml:"disabled"`
	SessionIdleTimeout  time.Duration `yaml:"session_idle_timeout"`
	MaxSessionsPerUser  int           `yaml:"max_sessions_per_user"`
	Departmentalization bool          `yaml:"departmentalization"`
	DefaultDepartment   string        `yaml:"default_department"`
	// Departments gives departments their ids: customers carry both, and
	// clients may name a department by either.
	Departments []EGainDepartment `yaml:"departments"`
	Users       []EGainUser       `yaml:"users"`
	// CustomAttributes lists the custom attribute names clients may send, per
	// level of the customer representation.
	CustomAttributes EGainCustomAttributes `yaml:"custom_attributes"`
	// LoginThrottle bounds password guessing per user and per address.
	LoginThrottle LoginThrottle `yaml:"login_throttle"`
	// Mapping names the profile schema elements eGain customers are stored in.
	Mapping EGainMapping `yaml:"mapping"`
}

// EGainMapping declares how an eGain customer maps onto a profile. The
// facade checks every name against the live schema when it starts and on
// every schema change (docs/egain.md has the attribute table).
type EGainMapping struct {
	FirstName   string `yaml:"first_name"`    // core string attribute: contact person 1's firstName
	LastName    string `yaml:"last_name"`     // core string attribute: contact person 1's lastName
	DateOfBirth string `yaml:"date_of_birth"` // core date attribute: contact person 1's dateOfBirth
	Email       string `yaml:"email"`         // multi-valued core string attribute: every e-mail contact point
	// Phone: one record of a multi-valued extension per phone number.
	Phone EGainRecordMapping `yaml:"phone"`
	// CustomAttributes: one record per value of a customer-level custom attribute.
	CustomAttributes EGainRecordMapping `yaml:"custom_attributes"`
	// The extensions holding the rest of the customer, one attribute per
	// field, named as in docs/egain.md.
	Customer          string `yaml:"customer"`           // single-valued: customer-level fields
	ContactPersons    string `yaml:"contact_persons"`    // multi-valued, unique [personId]
	ContactPoints     string `yaml:"contact_points"`     // multi-valued, unique [pointId]
	ContactAttributes string `yaml:"contact_attributes"` // multi-valued, unique [owner, name, value]
	// LegacyDocument is the string attribute of Customer in which versions
	// before 2026-12 kept the whole customer as JSON. A customer stored
	// that way is read from it and written structured on its next eGain
	// write; empty when no such data exists.
	LegacyDocument string    `yaml:"legacy_document"`
	Keys           EGainKeys `yaml:"keys"`
}

// EGainRecordMapping names an extension and the attributes of it in use.
type EGainRecordMapping struct {
	Extension string `yaml:"extension"`
	Number    string `yaml:"number,omitempty"` // phone: the phone number attribute
	Name      string `yaml:"name,omitempty"`   // custom attributes: the name attribute
	Value     string `yaml:"value,omitempty"`  // custom attributes: the value attribute
}

// EGainKeys are the identification keys eGain search reads.
type EGainKeys struct {
	Email    string   `yaml:"email"`    // over the e-mail attribute
	Phone    []string `yaml:"phone"`    // any of them matching a phone number
	Custom   string   `yaml:"custom"`   // over the custom attribute extension [name, value]
	Activity string   `yaml:"activity"` // over activities [type, isRead, isSecure, mode, sentDate]
}

// EGainUser is an agent account of the facade.
type EGainUser struct {
	// ID is the user's numeric id, optional: preferredAgent.id of a
	// customer must be the id of a user who has one (any number while no
	// user has an id).
	ID                 string   `yaml:"id"`
	Name               string   `yaml:"name"`
	PasswordHash       string   `yaml:"password_hash"` // bcrypt
	Permissions        []string `yaml:"permissions"`   // view_agent_console, create_customer, edit_customer
	HomeDepartment     string   `yaml:"home_department"`
	ForeignDepartments []string `yaml:"foreign_departments"`
	Tenants            Tenants  `yaml:"tenants"`
}

// EGainDepartment is one department: its numeric id and its name.
type EGainDepartment struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
}

// EGainCustomAttributes are the configured custom attribute names.
type EGainCustomAttributes struct {
	Customer      []string `yaml:"customer"`
	ContactPerson []string `yaml:"contact_person"`
	ContactPoint  []string `yaml:"contact_point"`
}

// LoginThrottle: after MaxFailures failed logins for one user name within
// Window, or MaxFailuresPerAddress from one client address, further
// attempts for that user or address get 429 until the window passes.
type LoginThrottle struct {
	MaxFailures int `yaml:"max_failures"`
	// MaxFailuresPerAddress is higher than MaxFailures (0:
	// DefaultAddressFactor times it): one address is often a whole contact
	// center behind NAT, where a few agents' typos must not lock everyone
	// out, while a guesser trying many names from one address still is.
	MaxFailuresPerAddress int           `yaml:"max_failures_per_address"`
	Window                time.Duration `yaml:"window"`
}

// DefaultAddressFactor is how many times max_failures one client address
// may fail when max_failures_per_address is not set.
const DefaultAddressFactor = 10

// PerAddress is the failures one client address may have in the window.
func (t LoginThrottle) PerAddress() int {
	if t.MaxFailuresPerAddress > 0 {
		return t.MaxFailuresPerAddress
	}
	if t.MaxFailures > math.MaxInt/DefaultAddressFactor { // the product would wrap negative: throttling off
		return math.MaxInt
	}
	return DefaultAddressFactor * t.MaxFailures
}

// check refuses settings that would throttle nothing by mistake.
func (t LoginThrottle) check(section string) []error {
	var problems []error
	if t.MaxFailures < 0 || t.MaxFailures > 0 && t.Window <= 0 {
		problems = append(problems, fmt.Errorf("%s: max_failures must be 0 (off) or positive with a positive window", section))
	}
	if t.MaxFailuresPerAddress < 0 || t.MaxFailuresPerAddress > 0 && t.MaxFailuresPerAddress < t.MaxFailures {
		problems = append(problems, fmt.Errorf("%s: max_failures_per_address must be 0 (%d times max_failures) or at least max_failures", section, DefaultAddressFactor))
	}
	return problems
}

// EGain permissions.
const (
	PermViewAgentConsole = "view_agent_console"
	PermCreateCustomer   = "create_customer"
	PermEditCustomer     = "edit_customer"
)

// DemoPasswordHash is the bcrypt hash of "demo", shipped for the demo user.
// The server warns at start while any user has it.
const DemoPasswordHash = "$2a$10$8fqqVP4lTaBn5il0LZoto.GWoQwhnj4VdtKXIUnv7ih4P4pbNE9uG"

func defaultEGain() EGain {
	return EGain{
		SessionIdleTimeout: 30 * time.Minute,
		MaxSessionsPerUser: 5,
		DefaultDepartment:  "Service",
		LoginThrottle:      LoginThrottle{MaxFailures: 5, Window: time.Minute},
		Mapping:            DefaultEGainMapping(),
	}
}

// DefaultEGainMapping matches the default schema of config.yaml.
func DefaultEGainMapping() EGainMapping {
	return EGainMapping{
		FirstName:         "FirstName",
		LastName:          "LastName",
		DateOfBirth:       "DOB",
		Email:             "EmailAddress",
		Phone:             EGainRecordMapping{Extension: "Phone", Number: "PhoneNumber"},
		CustomAttributes:  EGainRecordMapping{Extension: "CustomAttribute", Name: "name", Value: "value"},
		Customer:          "EgainCustomer",
		ContactPersons:    "ContactPerson",
		ContactPoints:     "ContactPoint",
		ContactAttributes: "ContactAttribute",
		LegacyDocument:    "document",
		Keys:              EGainKeys{Email: "email", Phone: []string{"phone", "phone_number"}, Custom: "custom", Activity: "email_activity"},
	}
}

func (e *EGain) validate() []error {
	var problems []error
	if e.SessionIdleTimeout <= 0 {
		problems = append(problems, fmt.Errorf("egain.session_idle_timeout must be positive"))
	} else if e.SessionIdleTimeout < time.Second {
		// 30ms for 30m: every session would expire before its next call.
		problems = append(problems, fmt.Errorf("egain.session_idle_timeout must be at least 1s, not %s (a typo for minutes?)", e.SessionIdleTimeout))
	}
	if e.MaxSessionsPerUser <= 0 {
		problems = append(problems, fmt.Errorf("egain.max_sessions_per_user must be positive"))
	}
	problems = append(problems, e.LoginThrottle.check("egain.login_throttle")...)
	ids, names := map[string]bool{}, map[string]bool{}
	for i, d := range e.Departments {
		switch {
		case d.ID == "" || strings.Trim(d.ID, "0123456789") != "" || len(d.ID) > 19:
			problems = append(problems, fmt.Errorf("egain.departments[%d]: id %q must be a number", i, d.ID))
		case d.Name == "":
			problems = append(problems, fmt.Errorf("egain.departments[%d]: name is required", i))
		case ids[d.ID] || names[strings.ToLower(d.Name)]:
			problems = append(problems, fmt.Errorf("egain.departments[%d]: id %s or name %q is given twice", i, d.ID, d.Name))
		}
		ids[d.ID], names[strings.ToLower(d.Name)] = true, true
	}
	seen, userIDs := map[string]bool{}, map[string]bool{}
	for i, u := range e.Users {
		name := strings.ToLower(u.Name)
		switch {
		case u.ID != "" && (strings.Trim(u.ID, "0123456789") != "" || len(u.ID) > 19):
			problems = append(problems, fmt.Errorf("egain.users[%d]: id %q must be a number", i, u.ID))
		case u.ID != "" && userIDs[u.ID]:
			problems = append(problems, fmt.Errorf("egain.users[%d]: id %s is given twice", i, u.ID))
		case u.Name == "":
			problems = append(problems, fmt.Errorf("egain.users[%d]: name is required", i))
		case seen[name]:
			problems = append(problems, fmt.Errorf("egain.users[%d]: user %q is defined twice", i, u.Name))
		case !isBcrypt(u.PasswordHash):
			problems = append(problems, fmt.Errorf("egain.users[%d]: user %q: password_hash must be a bcrypt hash (profiled hash-password makes one)", i, u.Name))
		}
		seen[name] = true
		if u.ID != "" {
			userIDs[u.ID] = true
		}
		problems = append(problems, checkTenants(fmt.Sprintf("egain.users[%d]: user %q", i, u.Name), u.Tenants)...)
		for _, p := range u.Permissions {
			switch p {
			case PermViewAgentConsole, PermCreateCustomer, PermEditCustomer:
			default:
				problems = append(problems, fmt.Errorf("egain.users[%d]: user %q: unknown permission %q", i, u.Name, p))
			}
		}
	}
	return problems
}

// isBcrypt reports whether hash is a well-formed bcrypt hash, as the
// facade will need it: check-config must refuse what serve would.
func isBcrypt(hash string) bool {
	_, err := bcrypt.Cost([]byte(hash))
	return err == nil
}
