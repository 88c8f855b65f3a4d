package httpapi

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/web"
)

// The reception desk (package web, desk/): one page for every screen, its
// script and its style sheet. The page itself holds nothing private; every
// call it makes needs a staff sign-in.

// GetDeskPage serves /desk, which opens on Today.
func (s *Server) GetDeskPage(c *gin.Context) { s.deskPage(c) }

// GetDeskScreen serves /desk/{screen}: the same page, which opens the
// screen its URL names, so reload, back and bookmarks work.
func (s *Server) GetDeskScreen(c *gin.Context, screen string) {
	if !slices.Contains(web.DeskScreens, screen) {
		s.failf(c, http.StatusNotFound, "not_found", "the desk has no screen %q", screen)
		return
	}
	s.deskPage(c)
}

func (s *Server) deskPage(c *gin.Context) {
	a := web.DeskPage()
	c.Header("Content-Security-Policy", web.ContentSecurityPolicy)
	c.Data(http.StatusOK, a.ContentType, a.Body)
}

// GetDeskScript serves /desk/app.js.
func (s *Server) GetDeskScript(c *gin.Context, params api.GetDeskScriptParams) {
	s.deskAsset(c, web.DeskScript(), params.IfNoneMatch)
}

// GetDeskStyle serves /desk/app.css.
func (s *Server) GetDeskStyle(c *gin.Context, params api.GetDeskStyleParams) {
	s.deskAsset(c, web.DeskStyle(), params.IfNoneMatch)
}

// deskAsset serves a file of the desk, revalidated with its ETag (the page
// names the files without a version, so a release reaches browsers at the
// next revalidation).
func (s *Server) deskAsset(c *gin.Context, a web.Asset, ifNoneMatch *string) {
	c.Header("ETag", a.ETag)
	c.Header("Cache-Control", "no-cache")
	if ifNoneMatch != nil && etagMatches(*ifNoneMatch, a.ETag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, a.ContentType, a.Body)
}
