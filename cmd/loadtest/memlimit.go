package main

import (
	"fmt"
	"math"
	"runtime/debug"
)

// imageMemoryLimit is the soft limit of the Go heap that the container
// image sets (GOMEMLIMIT in the Dockerfile; a test holds them equal), in
// bytes and as the image spells it.
const (
	imageMemoryLimit     = 100 << 20
	imageMemoryLimitText = "100MiB"
)

// applyMemoryLimit gives the process the soft memory limit the server runs
// with in production, so that the peak RSS the tool reports is the one the
// deployed server would reach: the image's, unless GOMEMLIMIT is set (the
// runtime has applied it then; "off" removes it). It says which applies.
func applyMemoryLimit(getenv func(string) string) string {
	if v := getenv("GOMEMLIMIT"); v != "" {
		if limit := debug.SetMemoryLimit(-1); limit == math.MaxInt64 {
			return "GOMEMLIMIT=" + v + " (no limit)"
		}
		return "GOMEMLIMIT=" + v + " (from the environment)"
	}
	debug.SetMemoryLimit(imageMemoryLimit)
	return fmt.Sprintf("GOMEMLIMIT=%s (the image's)", imageMemoryLimitText)
}
