package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/auth"
)

// Login starts a staff session; with refresh_in_cookie the refresh token
// goes in a cookie (see setRefreshCookie) instead of the body.
func (s *Server) Login(c *gin.Context) {
	var in api.LoginRequest
	if !s.decodeJSON(c, &in) {
		return
	}
	sess, err := s.auth.Login(c.Request.Context(), in.Email, in.Password, c.ClientIP())
	if err != nil {
		s.fail(c, err)
		return
	}
	if deref(in.RefreshInCookie) {
		setRefreshCookie(c, sess.RefreshToken, sess.RefreshExpiresIn)
		c.JSON(http.StatusOK, sessionJSON(sess, false))
		return
	}
	c.JSON(http.StatusOK, sessionJSON(sess, true))
}

// RefreshToken rotates a refresh token, from the body or else from the
// cookie, into a new session, answered the way it came.
func (s *Server) RefreshToken(c *gin.Context, params api.RefreshTokenParams) {
	token, fromCookie, ok := s.refreshCredential(c, params.UnderscoreUnderscoreSecureRefresh, params.XRequestedWith)
	if !ok {
		return
	}
	if token == "" { // a browser with no session (see refreshCredential)
		s.fail(c, &auth.Error{Code: auth.CodeUnauthenticated, Message: "no browser session: sign in"})
		return
	}
	sess, err := s.auth.Refresh(c.Request.Context(), token, c.ClientIP())
	if err != nil {
		s.fail(c, err)
		return
	}
	if fromCookie {
		setRefreshCookie(c, sess.RefreshToken, sess.RefreshExpiresIn)
	}
	c.JSON(http.StatusOK, sessionJSON(sess, !fromCookie))
}

// Logout ends the session of a refresh token, from the body or else from
// the cookie, which it then clears.
func (s *Server) Logout(c *gin.Context, params api.LogoutParams) {
	token, fromCookie, ok := s.refreshCredential(c, params.UnderscoreUnderscoreSecureRefresh, params.XRequestedWith)
	if !ok {
		return
	}
	if token == "" { // a browser with no session: signed out already
		setRefreshCookie(c, "", 0)
		c.Status(http.StatusNoContent)
		return
	}
	if err := s.auth.Logout(c.Request.Context(), token, c.ClientIP()); err != nil {
		s.fail(c, err)
		return
	}
	if fromCookie {
		setRefreshCookie(c, "", 0)
	}
	c.Status(http.StatusNoContent)
}

// GetMe returns the caller's own account.
func (s *Server) GetMe(c *gin.Context) {
	p, ok := s.principal(c)
	if !ok {
		return
	}
	st, err := s.auth.Me(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, staffJSON(st))
}

// ChangePassword changes the caller's password and ends all their sessions.
func (s *Server) ChangePassword(c *gin.Context) {
	p, ok := s.principal(c)
	if !ok {
		return
	}
	var in api.PasswordChange
	if !s.decodeJSON(c, &in) {
		return
	}
	if err := s.auth.ChangePassword(c.Request.Context(), p, in.CurrentPassword, in.NewPassword); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// ListStaff lists staff accounts.
func (s *Server) ListStaff(c *gin.Context, params api.ListStaffParams) {
	items, next, err := s.auth.ListStaff(c.Request.Context(), deref(params.Cursor), deref(params.Limit))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.StaffList{Items: make([]api.Staff, 0, len(items)), NextCursor: nonEmpty(next)}
	for _, st := range items {
		out.Items = append(out.Items, staffJSON(st))
	}
	c.JSON(http.StatusOK, out)
}

// CreateStaff adds a staff account.
func (s *Server) CreateStaff(c *gin.Context) {
	p, ok := s.principal(c)
	if !ok {
		return
	}
	var in api.StaffCreate
	if !s.decodeJSON(c, &in) {
		return
	}
	st, err := s.auth.CreateStaff(c.Request.Context(), &p,
		auth.NewStaff{Email: in.Email, Name: in.Name, Role: string(in.Role), Password: in.Password}, c.ClientIP())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/v1/staff/"+st.ID.String())
	c.JSON(http.StatusCreated, staffJSON(st))
}

// GetStaff returns one staff account.
func (s *Server) GetStaff(c *gin.Context, id uuid.UUID) {
	st, err := s.auth.Staff(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, staffJSON(st))
}

// UpdateStaff changes a staff account's name, role or active flag.
func (s *Server) UpdateStaff(c *gin.Context, id uuid.UUID) {
	p, ok := s.principal(c)
	if !ok {
		return
	}
	var in api.StaffUpdate
	if !s.decodeJSON(c, &in) {
		return
	}
	patch := auth.StaffPatch{Name: in.Name, Active: in.Active}
	if in.Role != nil {
		r := string(*in.Role)
		patch.Role = &r
	}
	st, err := s.auth.UpdateStaff(c.Request.Context(), p, id, patch, c.ClientIP())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, staffJSON(st))
}

// ListAuditEvents lists security events, newest first.
func (s *Server) ListAuditEvents(c *gin.Context, params api.ListAuditEventsParams) {
	items, next, err := s.auth.ListAudit(c.Request.Context(), deref(params.Cursor), deref(params.Limit))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := api.AuditEventList{Items: make([]api.AuditEvent, 0, len(items)), NextCursor: nonEmpty(next)}
	for _, e := range items {
		ev := api.AuditEvent{
			Id: e.ID, Type: api.AuditEventType(e.Type), ActorStaffId: e.ActorStaffID, SubjectStaffId: e.SubjectStaffID,
			ClientIp: e.ClientIP, Detail: e.Detail, At: e.At,
		}
		if e.Email != "" {
			ev.Email = &e.Email
		}
		out.Items = append(out.Items, ev)
	}
	c.JSON(http.StatusOK, out)
}

// sessionJSON is a session's answer; withRefresh is false when the refresh
// token travels in the cookie instead.
func sessionJSON(s auth.Session, withRefresh bool) api.TokenResponse {
	out := api.TokenResponse{
		AccessToken: s.AccessToken, TokenType: "Bearer", ExpiresIn: int(s.ExpiresIn.Seconds()),
		Staff: staffJSON(s.Staff),
	}
	if withRefresh {
		out.RefreshToken = &s.RefreshToken
	}
	return out
}

func staffJSON(s auth.Staff) api.Staff {
	return api.Staff{Id: s.ID, Email: s.Email, Name: s.Name, Role: api.StaffRole(s.Role), Active: s.Active, CreatedAt: s.CreatedAt}
}

// deref returns *p, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// nonEmpty returns &s, or nil for "" (a JSON null next_cursor).
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
