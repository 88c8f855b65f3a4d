package store_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// migrationVersions lists the goose version numbers of the .sql files in
// dir, in order, failing on a name that does not start with one.
func migrationVersions(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		n, err := strconv.Atoi(num)
		if !ok || err != nil {
			t.Errorf("%s: want NNNNN_name.sql", filepath.Join(dir, e.Name()))
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Both dialects run the same schema versions: a migration written for one
// and forgotten for the other would leave the two databases at the same
// version with different tables, or stop one of them at start.
func TestMigrationFoldersHoldTheSameVersions(t *testing.T) {
	sqlite := migrationVersions(t, filepath.Join("migrations", "sqlite"))
	postgres := migrationVersions(t, filepath.Join("migrations", "postgres"))
	if len(sqlite) == 0 {
		t.Fatal("no SQLite migrations found")
	}
	if !slices.Equal(sqlite, postgres) {
		t.Errorf("versions: got SQLite %v and PostgreSQL %v, want the same", sqlite, postgres)
	}
	for _, vs := range [][]int{sqlite, postgres} {
		if c := slices.Compact(slices.Clone(vs)); len(c) != len(vs) {
			t.Errorf("versions %v: a number is used twice", vs)
		}
	}
}
