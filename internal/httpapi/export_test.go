package httpapi

import "github.com/clinic/consult/internal/auth"

// AccessControl exposes the route rules to the black-box tests.
func AccessControl() map[string][]auth.Role { return accessControl }
