// Package icaltest reads iCalendar files in tests with a second, independent
// parser: Python's icalendar (Debian's python3-icalendar), so that what the
// server writes is checked by code other than the code that wrote it.
package icaltest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// Python returns a Python with the icalendar module: ICAL_PYTHON, else
// /usr/bin/python3. Without one the test is skipped, except under CI=true,
// where it fails.
func Python(t testing.TB) string {
	t.Helper()
	py := os.Getenv("ICAL_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	if err := exec.Command(py, "-c", "import icalendar").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s with the icalendar module is needed (apt-get install python3-icalendar): %v", py, err)
		}
		t.Skipf("%s with the icalendar module not found (apt-get install python3-icalendar): %v", py, err)
	}
	return py
}

// Parse runs script with py, the file on its standard input, and decodes the
// JSON it prints into v. A file the parser cannot read fails the test.
func Parse(t testing.TB, py, script string, ics []byte, v any) {
	t.Helper()
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(ics)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python icalendar could not read the file: %v\n%s\n%s", err, stderr.String(), ics)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("python output: %v: %s", err, out)
	}
}
