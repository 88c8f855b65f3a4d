package main

// #include <malloc.h>
import "C"

import "strconv"

// imageArenaMax is MALLOC_ARENA_MAX in the container image (a test holds
// them equal).
const imageArenaMax = 2

// applyArenaMax gives the process glibc's arena limit of the image, as
// applyMemoryLimit does the Go heap's: glibc reads MALLOC_ARENA_MAX only
// as the process starts, so when the variable is unset the tool sets the
// image's value with mallopt, before any SQLite call allocates.
func applyArenaMax(getenv func(string) string) string {
	if v := getenv("MALLOC_ARENA_MAX"); v != "" {
		return "MALLOC_ARENA_MAX=" + v + " (from the environment)"
	}
	C.mallopt(C.M_ARENA_MAX, imageArenaMax)
	return "MALLOC_ARENA_MAX=" + strconv.Itoa(imageArenaMax) + " (the image's)"
}
