package profile

import (
	"context"
	"strings"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// Error codes of schema administration.
const (
	CodeExtensionExists   = "EXTENSION_EXISTS"
	CodeKeyExists         = "IDENTIFICATION_KEY_EXISTS"
	CodeExtensionInUse    = "EXTENSION_IN_USE"
	CodeDefinedInConfig   = "DEFINED_IN_CONFIG"
	CodeExtensionNotFound = "EXTENSION_NOT_FOUND"
	CodeKeyNotFound       = "IDENTIFICATION_KEY_NOT_FOUND"
)

// CreateExtension adds an extension schema through the metadata API; it is
// persisted in the store and overlays the config schema.
func (s *Service) CreateExtension(ctx context.Context, doc schema.ExtensionDoc) (*schema.Extension, error) {
	if _, exists := s.Schema().Extension(doc.Name); exists {
		return nil, errs.Invalid(CodeExtensionExists, doc.Name, "extension %q already exists", doc.Name)
	}
	c, err := s.schema.Change(func(o *schema.Document) error {
		o.Extensions = append(o.Extensions, doc)
		return nil
	}, func(overlay []byte, _ *schema.Compiled) error {
		return s.store.UpdateSchema(ctx, overlay, func(string, Tx) error { return nil })
	})
	if err != nil {
		return nil, schemaError(err)
	}
	e, _ := c.Extension(doc.Name)
	return e, nil
}

// DeleteExtension drops an API-created extension schema and all its records.
func (s *Service) DeleteExtension(ctx context.Context, name string) error {
	e, ok := s.Schema().Extension(name)
	if !ok {
		return errs.NotFound(CodeExtensionNotFound, "extension %q is not defined", name)
	}
	if e.Origin == schema.OriginConfig {
		return errs.E(errs.KindForbidden, CodeDefinedInConfig, "extension %q is defined in the config file; remove it there and reload", e.Name)
	}
	for _, k := range s.Schema().Keys() {
		if strings.EqualFold(k.Source, e.Name) {
			return errs.Conflict(CodeExtensionInUse, "extension %q is used by identification key %q; delete the key first", e.Name, k.Name)
		}
	}
	_, err := s.schema.Change(func(o *schema.Document) error {
		o.Extensions = removeNamed(o.Extensions, e.Name, func(d schema.ExtensionDoc) string { return d.Name })
		return nil
	}, func(overlay []byte, _ *schema.Compiled) error {
		return s.store.UpdateSchema(ctx, overlay, func(_ string, tx Tx) error { return tx.DropExtension(e.Name) })
	})
	return schemaError(err)
}

// CreateKey adds an identification key and indexes every existing profile
// for it, in the same transaction that persists it.
func (s *Service) CreateKey(ctx context.Context, doc schema.KeyDoc) (*schema.IdentificationKey, error) {
	if _, exists := s.Schema().Key(doc.Name); exists {
		return nil, errs.Invalid(CodeKeyExists, doc.Name, "identification key %q already exists", doc.Name)
	}
	c, err := s.schema.Change(func(o *schema.Document) error {
		o.Keys = append(o.Keys, doc)
		return nil
	}, func(overlay []byte, next *schema.Compiled) error {
		k, _ := next.Key(doc.Name)
		return s.store.UpdateSchema(ctx, overlay, func(_ string, tx Tx) error {
			return tx.ForEachProfile(func(p *Profile) error {
				in, err := loadIndexed(tx, next, p)
				if err != nil {
					return err
				}
				entries, err := keyEntries(k, in)
				if err != nil {
					return err
				}
				for _, t := range entries {
					if k.Unique {
						if err := checkUniqueEntry(tx, k, t, p.ID); err != nil {
							return err
						}
					}
					if err := tx.AddIndexEntry(k.Name, t, p.ID); err != nil {
						return err
					}
				}
				return nil
			})
		})
	})
	if err != nil {
		return nil, schemaError(err)
	}
	k, _ := c.Key(doc.Name)
	return k, nil
}

// DeleteKey drops an API-created identification key and its index.
func (s *Service) DeleteKey(ctx context.Context, name string) error {
	k, ok := s.Schema().Key(name)
	if !ok {
		return errs.NotFound(CodeKeyNotFound, "identification key %q is not defined", name)
	}
	if k.Origin == schema.OriginConfig {
		return errs.E(errs.KindForbidden, CodeDefinedInConfig, "identification key %q is defined in the config file; remove it there and reload", k.Name)
	}
	_, err := s.schema.Change(func(o *schema.Document) error {
		o.Keys = removeNamed(o.Keys, k.Name, func(d schema.KeyDoc) string { return d.Name })
		return nil
	}, func(overlay []byte, _ *schema.Compiled) error {
		return s.store.UpdateSchema(ctx, overlay, func(_ string, tx Tx) error { return tx.DropIndex(k.Name) })
	})
	return schemaError(err)
}

func removeNamed[T any](list []T, name string, nameOf func(T) string) []T {
	out := list[:0:0]
	for _, item := range list {
		if !strings.EqualFold(nameOf(item), name) {
			out = append(out, item)
		}
	}
	return out
}

// schemaError turns schema problems into a client error.
func schemaError(err error) error {
	if problems, ok := err.(schema.Problems); ok {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			p.File = ""
			msgs[i] = p.String()
		}
		field := ""
		if len(problems) > 0 {
			field = problems[0].Name
		}
		return errs.Invalid(schema.CodeInvalidSchema, field, "%s", strings.Join(msgs, "; "))
	}
	return err
}
