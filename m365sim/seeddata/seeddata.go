// Package seeddata owns the simulator's deterministic, realistic tenant
// content: people, groups and the licence catalogue.
package seeddata

// Person is one generated member of the tenant.
type Person struct {
	GivenName, Surname, DisplayName, Alias                        string
	JobTitle, Department, OfficeLocation, CompanyName, EmployeeID string
	MobilePhone, BusinessPhone                                    string
	City, Country, UsageLocation                                  string
	AccountEnabled                                                bool
}

// People returns n people, deterministic for (seed, n).
func People(seed int64, n int) []Person { return make([]Person, n) }

// GroupSpec describes one generated group.
type GroupSpec struct {
	DisplayName, Description, MailNickname, Visibility string
	Unified                                            bool
	Size                                               int
}

// Groups returns n groups for a tenant of users people.
func Groups(seed int64, n, users int) []GroupSpec { return make([]GroupSpec, n) }

// ServicePlan is one service plan inside a SKU.
type ServicePlan struct{ ID, Name string }

// SKU is one licensable product.
type SKU struct {
	SkuID, SkuPartNumber, ProductName string
	AppliesTo                         string
	ServicePlans                      []ServicePlan
}

// SKUs returns the licence catalogue.
func SKUs() []SKU { return nil }
