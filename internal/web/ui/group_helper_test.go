package ui_test

import (
	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
)

func directoryGroup(name *string, roles *[]tenantlink.Role, members *[]string) directory.GroupInput {
	return directory.GroupInput{Name: name, Roles: roles, Members: members}
}
