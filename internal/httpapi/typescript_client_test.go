package httpapi_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTypeScriptClientBooksASlot compiles docs/typescript-client/book.ts
// (typed by openapi-typescript from openapi.yaml) with tsc --strict and runs
// it with Node.js against a live server: the generated types are not only
// accepted by the compiler, the request they shape is one the server books.
// It needs node and the folder's npm packages (npm ci there); without them
// it skips, except under CI=true.
func TestTypeScriptClientBooksASlot(t *testing.T) {
	dir, err := filepath.Abs("../../docs/typescript-client")
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	tsc := filepath.Join(dir, "node_modules", ".bin", "tsc")
	if _, statErr := os.Stat(tsc); err != nil || statErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node or %s missing; CI runs npm ci in docs/typescript-client first", tsc)
		}
		t.Skip("node or the TypeScript packages are missing: run npm ci in docs/typescript-client")
	}
	out := t.TempDir()
	cmd := exec.Command(tsc, "--strict", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext",
		"--lib", "es2022,dom", "--outDir", out, filepath.Join(dir, "book.ts"))
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc --strict book.ts: %v\n%s", err, b)
	}
	runner := filepath.Join(out, "run.cjs")
	err = os.WriteFile(runner, []byte(`const { bookFirstFreeSlot } = require("./book.js");
const day = (d) => d.toISOString().slice(0, 10);
const now = new Date();
bookFirstFreeSlot(process.argv[2], day(now), day(new Date(now.getTime() + 13 * 86400000)))
  .then((b) => { if (!/^[A-Z0-9]{4}-[A-Z0-9]{4}$/.test(b.reference)) { throw new Error("reference " + b.reference); } })
  .catch((e) => { console.error(e.message); process.exit(1); });
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}

	e := newEnv(t, sqliteURL(t))
	k := newClinic(t, e)
	k.slot(t, slotOpts{start: time.Now().Add(72 * time.Hour).Truncate(time.Hour)})
	run := exec.Command(node, runner, e.URL)
	b, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("node book.js: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), "booked ") {
		t.Errorf("node book.js printed %q, want a booked reference", b)
	}
}
