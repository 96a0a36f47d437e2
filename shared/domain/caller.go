package domain

import (
	"slices"
	"strings"
)

// Role is what a caller may do on the platform; it comes from the verified token.
type Role string

// The roles of DOMAIN.md.
const (
	RoleVendor           Role = "vendor"
	RoleSoftwareProvider Role = "software_provider"
	RoleDeployer         Role = "deployer"
	RoleMerchant         Role = "merchant"
	RoleReviewer         Role = "reviewer"
	RoleFactory          Role = "factory"
)

// Caller is the authenticated principal of a request: who (Subject), for which organisation
// (Org) and in which role. AccountType is the payment account type the identity provider
// reports for the organisation (e.g. "service_provider").
type Caller struct {
	Subject     string
	Org         string
	Role        Role
	AccountType string
}

// Require returns a Forbidden error (code "forbidden_role") unless c has one of roles.
// Partner roles must also carry an organisation.
func (c Caller) Require(roles ...Role) error {
	if !slices.Contains(roles, c.Role) {
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = string(r)
		}
		return Errorf(Forbidden, "forbidden_role", "this operation is for the %s role, not %s", strings.Join(names, " or "), c.Role)
	}
	if c.Role != RoleReviewer && c.Org == "" {
		return Errorf(Forbidden, "no_organisation", "the token names no organisation")
	}
	return nil
}

// Owns reports whether c's organisation owns a resource owned by org. Reviewers own nothing.
func (c Caller) Owns(org string) bool {
	return c.Role != RoleReviewer && c.Org != "" && c.Org == org
}
