package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// "migrate" applies the migrations and exits; "backup FILE" then copies the
// database; on PostgreSQL backup points to pg_dump.
func TestMigrateAndBackupCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(dir, "data", "clinic.db")}
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, getenv, &out, &out); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if !strings.Contains(out.String(), "migrations applied") {
		t.Errorf("migrate output: got %q, want it to say the migrations were applied", out.String())
	}
	file := filepath.Join(dir, "backup.db")
	if err := run(context.Background(), []string{"backup", file}, getenv, &out, &out); err != nil {
		t.Fatalf("backup: %v", err)
	}
	db, err := sql.Open("sqlite3", "file:"+file+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version int64
	if err := db.QueryRow("SELECT max(version_id) FROM goose_db_version").Scan(&version); err != nil || version < 1 {
		t.Errorf("backup schema version: got %d %v, want the migrated schema", version, err)
	}
	env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:1/clinic"
	err = run(context.Background(), []string{"backup", filepath.Join(dir, "pg.db")}, getenv, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backup on PostgreSQL: got %v, want a pointer to pg_dump", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pg.db")); err == nil {
		t.Error("backup on PostgreSQL created a file")
	}
}
