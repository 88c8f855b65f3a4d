package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
)

func TestIdempotentResponseIsSealedUnderTheClientKey(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "idem.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k := &Idempotency{Scope: "POST /v1/booking-requests", Key: "6c1d2f7e-9a4b-4c3d-8e5f-0a1b2c3d4e5f", Request: []byte(`{"slot_id":"x"}`)}
	body := []byte(`{"reference":"K7QM-4T2P","manage_token":"s3cret-manage-token"}`)
	now := time.Now()
	err = s.tx(ctx, func(tx *gorm.DB) error {
		replay, sec, err := claimIdempotencyKey(tx, k, now)
		if err != nil || replay != nil {
			t.Fatalf("claim: %v %v", replay, err)
		}
		return finishIdempotencyKey(tx, k, sec, Response{Status: 201, Body: body})
	})
	if err != nil {
		t.Fatal(err)
	}

	var row idempotencyRow
	if err := s.db.Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	plainHash := sha256.Sum256(k.Request)
	for name, v := range map[string]string{"key": row.Key, "request hash": row.RequestHash, "body": row.ResponseBody} {
		for _, secret := range []string{k.Key, "s3cret-manage-token", "K7QM-4T2P", hex.EncodeToString(plainHash[:])} {
			if strings.Contains(v, secret) {
				t.Errorf("stored %s holds %q in clear", name, secret)
			}
		}
	}
	if row.ResponseStatus != 201 {
		t.Errorf("status: got %d", row.ResponseStatus)
	}

	// The client with the key gets the body back; nobody else does.
	err = s.tx(ctx, func(tx *gorm.DB) error {
		replay, _, err := claimIdempotencyKey(tx, k, now.Add(time.Hour))
		if err != nil || replay == nil || !bytes.Equal(replay.Body, body) || replay.Status != 201 {
			t.Errorf("replay: %+v %v", replay, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	other, err := (&Idempotency{Scope: k.Scope, Key: k.Key + "x"}).secrets()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.open(k.Scope, 201, row.ResponseBody); err == nil {
		t.Error("another key opened the stored response")
	}
	own, _ := k.secrets()
	if _, err := own.open(k.Scope, 200, row.ResponseBody); err == nil {
		t.Error("the stored response opened with another status")
	}

	// After its time to live the key starts afresh.
	err = s.tx(ctx, func(tx *gorm.DB) error {
		replay, _, err := claimIdempotencyKey(tx, k, now.Add(IdempotencyTTL+time.Minute))
		if err != nil || replay != nil {
			t.Errorf("after TTL: %+v %v, want a fresh claim", replay, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
