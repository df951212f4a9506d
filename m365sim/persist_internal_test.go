package m365sim

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestStateCoversEveryField: every field of the tenant structures is kept
// by the state file (persist.go) or rebuilt on load, and this test says
// which. encoding/json skips unexported fields silently, which is how the
// file once lost soft-deleted items and the units group licences consume;
// a field added later fails here until it is placed.
func TestStateCoversEveryField(t *testing.T) {
	const (
		saved   = "saved"
		derived = "rebuilt on load"
		live    = "set when the tenant is added to a Server"
	)
	// For the types the file embeds whole (marked auto), exported fields
	// are saved by encoding/json and only unexported ones are listed; for
	// the others every field is.
	type entry struct {
		auto   bool
		fields map[string]string
	}
	kept := map[reflect.Type]entry{
		reflect.TypeFor[tenant](): {fields: map[string]string{
			"ID": saved, "Domain": saved, "DisplayName": saved, "seed": saved, "created": saved,
			"users": saved, "userByID": derived, "userByUPN": derived,
			"groups": saved, "groupByID": derived, "skus": saved,
			"log": saved, "seq": saved, "nextOrd": saved,
			"gen":      saved + " (the PCG state, tenantState.IDs)",
			"deleted":  saved + " (tenantState.Deleted, version 2)",
			"onChange": live, "clock": live, "onRecord": live,
		}},
		reflect.TypeFor[user](): {auto: true, fields: map[string]string{"ord": saved + " (userState.Ord)"}},
		reflect.TypeFor[group](): {auto: true, fields: map[string]string{
			"ord": saved + " (groupState.Ord)", "members": saved + " (groupState.Members)",
			"memberSet": derived + " from members", "owners": saved + " (groupState.Owners)",
		}},
		reflect.TypeFor[sku](): {auto: true, fields: map[string]string{
			"consumed":  derived + " from the users' direct licences",
			"groupOnly": derived + " from the users' counted group licences",
		}},
		reflect.TypeFor[licenceState]():    {auto: true},
		reflect.TypeFor[assignedLicense](): {auto: true},
		reflect.TypeFor[servicePlan]():     {auto: true},
		reflect.TypeFor[change](): {fields: map[string]string{
			"seq": saved, "group": saved, "id": saved, "removed": saved, "soft": saved, "member": saved, "memberAdded": saved, "props": saved,
		}},
		reflect.TypeFor[deletedObject](): {fields: map[string]string{
			"at": saved, "user": saved, "upn": saved, "groups": saved, "owned": saved, "group": saved, "licences": saved,
		}},
		reflect.TypeFor[ids](): {fields: map[string]string{"r": derived + " from src", "src": saved + " (binary)"}},
	}
	pkg := reflect.TypeFor[tenant]().PkgPath()
	// ownStruct finds this package's struct types inside a field's type.
	var ownStruct func(reflect.Type) []reflect.Type
	ownStruct = func(ft reflect.Type) []reflect.Type {
		switch ft.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			return ownStruct(ft.Elem())
		case reflect.Map:
			return append(ownStruct(ft.Key()), ownStruct(ft.Elem())...)
		case reflect.Struct:
			if ft.PkgPath() == pkg {
				return []reflect.Type{ft}
			}
		}
		return nil
	}
	for typ, e := range kept {
		seen := map[string]bool{}
		for f := range typ.Fields() {
			seen[f.Name] = true
			if how, ok := e.fields[f.Name]; ok {
				if how == "" {
					t.Errorf("%s.%s: say how the state file keeps it", typ.Name(), f.Name)
				}
			} else if !e.auto || !f.IsExported() {
				t.Errorf("%s.%s is neither saved nor rebuilt by the state file as far as this test knows: save it (persist.go) or say why not, and list it here", typ.Name(), f.Name)
			} else if tag := f.Tag.Get("json"); tag == "-" || strings.HasPrefix(tag, "-,") {
				t.Errorf("%s.%s is left out of JSON, so the state file loses it", typ.Name(), f.Name)
			}
			if f.Name == "onChange" || f.Name == "onRecord" || f.Name == "clock" {
				continue
			}
			for _, inner := range ownStruct(f.Type) {
				if _, ok := kept[inner]; !ok {
					t.Errorf("%s.%s holds a %s, which this test does not cover", typ.Name(), f.Name, inner.Name())
				}
			}
		}
		for name := range e.fields {
			if !seen[name] {
				t.Errorf("%s has no field %s any more: remove it from this test", typ.Name(), name)
			}
		}
	}
	// The types the file embeds whole are the ones marked auto.
	for _, typ := range []reflect.Type{reflect.TypeFor[userState](), reflect.TypeFor[groupState]()} {
		f, _ := typ.FieldByName(strings.TrimSuffix(typ.Name(), "State"))
		if !f.Anonymous || !kept[f.Type].auto {
			t.Errorf("%s no longer embeds %s whole; revisit this test", typ.Name(), f.Type)
		}
	}
	if !slices.ContainsFunc(reflect.VisibleFields(reflect.TypeFor[tenantState]()), func(f reflect.StructField) bool { return f.Name == "SKUs" && f.Type.Elem() == reflect.TypeFor[sku]() }) {
		t.Errorf("tenantState no longer saves []sku whole; revisit this test")
	}
}
