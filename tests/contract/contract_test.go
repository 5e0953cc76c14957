package contract

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/orgsso/orgsso/rolemap"
	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
	"github.com/orgsso/orgsso/store/memory"
	"github.com/orgsso/orgsso/store/postgres"
	"github.com/orgsso/orgsso/store/sqlite"
	"github.com/orgsso/orgsso/store/sqlstore"
)

// Each assignment pins a signature from DESIGN.md's contract.
var (
	_ rolemap.OrgRole = rolemap.RoleMember
	_ rolemap.OrgRole = rolemap.RoleAdmin
	_ rolemap.OrgRole = rolemap.RoleOwner
	_                 = rolemap.Mapping{IdPRole: "", OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{}}
	_                 = rolemap.Config{Enabled: true, Delimiter: ",", Mappings: []rolemap.Mapping{}}
	_                 = rolemap.Result{OrgRole: "", StackRoles: map[string][]string{}, Matched: []rolemap.Mapping{}, Unmatched: []string{}}

	_ func([]string, string) []string               = rolemap.ParseRoles
	_ func(rolemap.Config) error                    = rolemap.Config.Validate
	_ func(rolemap.Config, []string) rolemap.Result = rolemap.Config.Map

	_                                                                           = session.Session{ID: "", OrgID: "", UserID: "", Method: "", CreatedAt: time.Time{}, ExpiresAt: time.Time{}}
	_ func(session.Store, ...session.Option) *session.Manager                   = session.NewManager
	_ func(func() time.Time) session.Option                                     = session.WithClock
	_ func(*session.Manager, context.Context, string) (*session.Session, error) = (*session.Manager).Validate

	_ time.Duration      = sso.DefaultSessionTimeout
	_ func(string) error = sso.ValidateSSOName
	_                    = sso.Organization{ID: "", SSOName: "", OwnerID: "", Enabled: false, IdP: sso.IdPConfig{},
		StrictMode: false, SessionTimeout: 0, RoleMapping: rolemap.Config{}, JITProvisioning: false, AllowIdPInitiated: false}
	_ func(*sso.Organization) error       = (*sso.Organization).Validate
	_                                     = sso.IdPConfig{EntityID: "", SSOURL: "", Certificates: []string{}, SignatureAlgorithm: ""}
	_ func([]byte) (sso.IdPConfig, error) = sso.ParseIdPMetadata
	_                                     = sso.Member{OrgID: "", UserID: "", Email: "", FirstName: "", LastName: "",
		OrgRole: rolemap.RoleMember, StackRoles: map[string][]string{}, AllowWithoutSSO: false}
	_ = sso.SPDetails{EntityID: "", ACSURL: "", NameIDFormat: "", Attributes: []string{}}
	_ = sso.ValidatorConfig{SP: sso.SPDetails{}, IdP: sso.IdPConfig{}, Now: time.Now, ClockSkew: 0,
		AllowIdPInitiated: false, SPKeyPair: (*tls.Certificate)(nil), MaxResponseSize: 0}
	_ = sso.Assertion{ID: "", Issuer: "", NameID: "", NameIDFormat: "", SessionIndex: "", InResponseTo: "",
		Attributes: map[string][]string{}, NotOnOrAfter: time.Time{}}
	_ func(sso.ValidatorConfig) (*sso.Validator, error)               = sso.NewValidator
	_ func(*sso.Validator, string, ...string) (*sso.Assertion, error) = (*sso.Validator).Validate

	_                                                                            = sso.Config{BaseURL: "", Store: sso.Store(nil), Sessions: (*session.Manager)(nil), Now: time.Now, SPKeyPair: (*tls.Certificate)(nil)}
	_ func(sso.Config) (*sso.Service, error)                                     = sso.New
	_ func(*sso.Service, *sso.Organization) sso.SPDetails                        = (*sso.Service).Details
	_ func(*sso.Service, *sso.Organization) ([]byte, error)                      = (*sso.Service).Metadata
	_                                                                            = sso.Redirect{URL: "", RequestID: ""}
	_ func(*sso.Service, context.Context, string, string) (*sso.Redirect, error) = (*sso.Service).StartLogin
	_ func(*sso.Service, context.Context, string, string) (*sso.Redirect, error) = (*sso.Service).StartTest
	_                                                                            = sso.Identity{NameID: "", Email: "", FirstName: "", LastName: "", IdPRoles: []string{}, Attributes: map[string][]string{}}
	_                                                                            = sso.TestReport{Identity: sso.Identity{}, Mapping: rolemap.Result{}, Problems: []string{}}
	_                                                                            = sso.Result{Org: (*sso.Organization)(nil), Member: (*sso.Member)(nil), Identity: sso.Identity{}, Mapping: rolemap.Result{},
		Session: (*session.Session)(nil), Token: "", ReturnTo: "", Test: (*sso.TestReport)(nil)}
	_ func(*sso.Service, context.Context, string, *http.Request) (*sso.Result, error) = (*sso.Service).HandleACS
	_ func(*sso.Service, context.Context, string, string) error                       = (*sso.Service).Enable
	_ func(*sso.Service, context.Context, string, string) error                       = (*sso.Service).Disable
	_ func(*sso.Service, context.Context, string, string) error                       = (*sso.Service).PasswordLoginAllowed
	_                                                                                 = []error{sso.ErrInvalidResponse, sso.ErrReplay, sso.ErrUnknownOrganization, sso.ErrSSODisabled,
		sso.ErrAccessDenied, sso.ErrNotOwner, sso.ErrNotFound}
	_ = sso.PendingRequest{ID: "", OrgID: "", ReturnTo: "", TesterUserID: "", ExpiresAt: time.Time{}}

	// Contract changes of 2026-12-02: admin actions take the organization
	// ID; organizations change through the Service; Redirect.Cookie.
	_                                                                                                               = sso.Redirect{URL: "", RequestID: "", Cookie: (*http.Cookie)(nil)}
	_ func(*sso.Service, context.Context, *sso.Organization) error                                                  = (*sso.Service).CreateOrganization
	_ func(*sso.Service, context.Context, string, string, func(*sso.Organization) error) (*sso.Organization, error) = (*sso.Service).UpdateOrganization
	_ func(*sso.Service, context.Context, string, string, string) error                                             = (*sso.Service).RemoveMember
	_ error                                                                                                         = sso.ErrConflict

	_ func() *memory.Store                                   = memory.New
	_ func(context.Context, string) (*sqlstore.Store, error) = sqlite.Open
	_ func(context.Context, string) (*sqlstore.Store, error) = postgres.Open
	_ func(*sqlstore.Store) error                            = (*sqlstore.Store).Close
	_ sso.Store                                              = (*memory.Store)(nil)
	_ session.Store                                          = (*memory.Store)(nil)
	_ sso.Store                                              = (*sqlstore.Store)(nil)
	_ session.Store                                          = (*sqlstore.Store)(nil)
)

// The Store port's methods, exactly.
type storeContract interface {
	Organization(ctx context.Context, id string) (*sso.Organization, error)
	OrganizationBySSOName(ctx context.Context, ssoName string) (*sso.Organization, error)
	SaveOrganization(ctx context.Context, org *sso.Organization) error
	Member(ctx context.Context, orgID, email string) (*sso.Member, error)
	SaveMember(ctx context.Context, m *sso.Member) error
	SaveRequest(ctx context.Context, req *sso.PendingRequest) error
	ConsumeRequest(ctx context.Context, id string) (*sso.PendingRequest, error)
	UseAssertion(ctx context.Context, orgID, assertionID string, until time.Time) error
}

var _ storeContract = sso.Store(nil)
var _ sso.Store = storeContract(nil)

// TestContractErrorsAreDistinct: the sentinels are distinct values, and
// ErrNotFound is what every store returns.
func TestContractErrorsAreDistinct(t *testing.T) {
	errs := []error{sso.ErrInvalidResponse, sso.ErrReplay, sso.ErrUnknownOrganization, sso.ErrSSODisabled,
		sso.ErrAccessDenied, sso.ErrNotOwner, sso.ErrNotFound}
	for i, a := range errs {
		for j, b := range errs {
			if i != j && errors.Is(a, b) {
				t.Errorf("%v is %v", a, b)
			}
		}
	}
	if _, err := memory.New().Member(context.Background(), "org", "x@y"); !errors.Is(err, sso.ErrNotFound) {
		t.Errorf("memory Member err = %v; want ErrNotFound", err)
	}
	if sso.DefaultSessionTimeout != 12*time.Hour {
		t.Errorf("DefaultSessionTimeout = %v; want 12h", sso.DefaultSessionTimeout)
	}
}
