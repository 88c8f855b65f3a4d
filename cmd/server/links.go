package main

import (
	"log/slog"
	"net"

	"github.com/clinic/consult/internal/config"
)

// publicLinks settles where the links the server hands out (manage links
// in patient email, calendar-feed URLs) point when PUBLIC_BASE_URL is
// unset: the address it listens on, ln's (so HTTP_ADDR's port 0 names the
// port it got), and says once, at WARN, that patients cannot follow them.
func publicLinks(cfg *config.Config, ln net.Addr, log *slog.Logger) {
	if !cfg.PublicBaseURLFromAddr {
		return
	}
	if host, port, err := net.SplitHostPort(cfg.HTTPAddr); err == nil && port == "0" {
		if _, got, err := net.SplitHostPort(ln.String()); err == nil {
			cfg.PublicBaseURL = config.BaseURLFromAddr(net.JoinHostPort(host, got))
		}
	}
	log.Warn("PUBLIC_BASE_URL is not set: links in patient email and calendar feeds point to this machine's address, which patients cannot reach; set PUBLIC_BASE_URL to the address they use",
		"public_base_url", cfg.PublicBaseURL)
}
