package httpapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/clinic/consult/api"
	"github.com/clinic/consult/internal/booking"
	"github.com/clinic/consult/web"
)

// The widget script and the hosted pages (package web).

// widgetCacheControl lets browsers and caches keep widget.js briefly and
// revalidate it with its ETag: a new release reaches websites within
// minutes.
const widgetCacheControl = "public, max-age=300"

// GetWidgetScript serves /widget.js.
func (s *Server) GetWidgetScript(c *gin.Context, params api.GetWidgetScriptParams) {
	a := s.widget
	c.Header("ETag", a.ETag)
	c.Header("Cache-Control", widgetCacheControl)
	// Any website may load the script; what it may call is CORS's business.
	c.Header("Cross-Origin-Resource-Policy", "cross-origin")
	if params.IfNoneMatch != nil && etagMatches(*params.IfNoneMatch, a.ETag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, a.ContentType, a.Body)
}

// GetBookPage serves the hosted booking page.
func (s *Server) GetBookPage(c *gin.Context, params api.GetBookPageParams) {
	d := web.PageData{Lang: pageLocale(params.Locale, params.AcceptLanguage)}
	if params.ConsultationType != nil {
		if id, err := booking.ParseID(*params.ConsultationType); err == nil {
			d.ConsultationType = id.String()
		}
	}
	s.page(c, web.BookPage, d)
}

// GetManagePage serves the patient's manage page. The reference and the
// token are in the URL fragment, which browsers never send: the page reads
// them itself.
func (s *Server) GetManagePage(c *gin.Context, params api.GetManagePageParams) {
	s.page(c, web.ManagePage, web.PageData{Lang: pageLocale(params.Locale, params.AcceptLanguage)})
}

// GetWaitlistPage serves the patient's waitlist page; like the manage
// page, it reads the reference and the token from the URL fragment.
func (s *Server) GetWaitlistPage(c *gin.Context, params api.GetWaitlistPageParams) {
	s.page(c, web.WaitlistPage, web.PageData{Lang: pageLocale(params.Locale, params.AcceptLanguage)})
}

func (s *Server) page(c *gin.Context, render func(web.PageData) ([]byte, error), d web.PageData) {
	body, err := render(d)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Security-Policy", web.ContentSecurityPolicy)
	c.Writer.Header().Add("Vary", "Accept-Language")
	c.Data(http.StatusOK, "text/html; charset=utf-8", body)
}

// pageLocale is ?locale= when it is a supported language, else the first
// supported one of Accept-Language, else English.
func pageLocale(query, acceptLanguage *string) string {
	if query != nil {
		if l := strings.ToLower(strings.TrimSpace(*query)); booking.PickLocale(l) == l {
			return l
		}
	}
	return booking.PickLocale(deref(acceptLanguage))
}
