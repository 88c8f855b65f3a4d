package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/clinic/consult/internal/booking"
)

// IdempotencyTTL is how long a create call's first response is kept for
// replay under its Idempotency-Key.
const IdempotencyTTL = 24 * time.Hour

// Idempotency ties a create call to a client's Idempotency-Key. The store
// keeps neither the key nor the response in clear: the key only as a
// SHA-256, the request as an HMAC under a key derived from the client's key,
// and the response (which, for a public booking request, holds the manage
// token) encrypted with AES-256-GCM under another key derived from the
// client's key. Only a client that holds the Idempotency-Key can get the
// response back; a copy of the database cannot.
type Idempotency struct {
	// Scope separates key spaces: the same key sent to two endpoints, or by
	// two staff members, are two keys.
	Scope string
	// Key is the client's Idempotency-Key as sent.
	Key string
	// Request is the canonical form of the request body; the same key with
	// another Request is booking.ErrIdempotencyKeyReused.
	Request []byte
	// Response renders the created booking as the response to keep for
	// replay. It runs inside the create's transaction, so the response is
	// stored if and only if the booking is.
	Response func(b booking.Booking, slot booking.Slot) (Response, error)

	// sec caches the secrets Key derives (see prepare).
	sec *idempotencySecrets
}

// prepare derives the key's secrets and the request's HMAC once, before
// the create's transaction, which then does not spend the writer's time on
// them (nor again when it is retried).
func (k *Idempotency) prepare() error {
	sec, err := k.secrets()
	if err != nil {
		return err
	}
	sec.hash = sec.requestHash(k.Request)
	k.sec = &sec
	return nil
}

// Response is a create's answer as kept for replay: the status, the
// headers that belong to it (such as Location and ETag) and the body, so a
// replay answers exactly as the first call did without reading its body.
type Response struct {
	Status int
	Header map[string]string
	Body   []byte
}

// envelopeV1 starts a stored response that holds its headers; a stored
// body without it (a JSON body starts with "{") has none.
const envelopeV1 = 0x01

// envelope frames r's headers and body for sealing: envelopeV1, the length
// of the headers' JSON as a uvarint, that JSON, then the body.
func (r Response) envelope() ([]byte, error) {
	hdr, err := json.Marshal(r.Header)
	if err != nil {
		return nil, fmt.Errorf("idempotent response headers: %w", err)
	}
	out := binary.AppendUvarint([]byte{envelopeV1}, uint64(len(hdr)))
	out = append(out, hdr...)
	return append(out, r.Body...), nil
}

// openEnvelope undoes envelope; a body stored without one comes back with
// no headers.
func openEnvelope(status int, b []byte) (Response, error) {
	if len(b) == 0 || b[0] != envelopeV1 {
		return Response{Status: status, Body: b}, nil
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || uint64(len(b)-1-k) < n {
		return Response{}, errors.New("stored idempotent response: bad envelope")
	}
	var hdr map[string]string
	if err := json.Unmarshal(b[1+k:1+k+int(n)], &hdr); err != nil {
		return Response{}, fmt.Errorf("stored idempotent response headers: %w", err)
	}
	return Response{Status: status, Header: hdr, Body: b[1+k+int(n):]}, nil
}

type idempotencyRow struct {
	Scope          string `gorm:"column:scope;primaryKey"`
	Key            string `gorm:"column:key;primaryKey"` // hex SHA-256 of the client's key
	RequestHash    string `gorm:"column:request_hash"`   // hex HMAC of the canonical request
	ResponseStatus int    `gorm:"column:response_status"`
	ResponseBody   string `gorm:"column:response_body"` // base64 of nonce || AES-GCM ciphertext
	CreatedAt      time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

// idempotencySecrets are what one Idempotency-Key gives: the id the row is
// stored under, and the keys that authenticate the request and encrypt the
// response.
type idempotencySecrets struct {
	id     string
	macKey []byte
	encKey []byte

	// Set by claimIdempotencyKey for finishIdempotencyKey: the request's
	// HMAC and the time of the claim.
	hash string
	at   time.Time
}

const idempotencyLabel = "clinic-consult/idempotency/v1"

func (k Idempotency) secrets() (idempotencySecrets, error) {
	sum := sha256.Sum256([]byte(idempotencyLabel + "/id\x00" + k.Scope + "\x00" + k.Key))
	keys, err := hkdf.Key(sha256.New, []byte(k.Key), nil, idempotencyLabel+"/keys\x00"+k.Scope, 64)
	if err != nil {
		return idempotencySecrets{}, fmt.Errorf("derive idempotency keys: %w", err)
	}
	return idempotencySecrets{id: hex.EncodeToString(sum[:]), macKey: keys[:32], encKey: keys[32:]}, nil
}

func (s idempotencySecrets) requestHash(request []byte) string {
	m := hmac.New(sha256.New, s.macKey)
	m.Write(request)
	return hex.EncodeToString(m.Sum(nil))
}

// aad binds a ciphertext to its row and status, so that a stored body
// cannot be moved to another key or replayed with another status.
func (s idempotencySecrets) aad(scope string, status int) []byte {
	return []byte(scope + "\x00" + s.id + "\x00" + strconv.Itoa(status))
}

func (s idempotencySecrets) seal(scope string, status int, body []byte) (string, error) {
	aead, err := newGCM(s.encKey)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(body)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("idempotency nonce: %w", err)
	}
	return base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, body, s.aad(scope, status))), nil
}

func (s idempotencySecrets) open(scope string, status int, stored string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		return nil, fmt.Errorf("stored idempotent response: %w", err)
	}
	aead, err := newGCM(s.encKey)
	if err != nil {
		return nil, err
	}
	if len(raw) < aead.NonceSize() {
		return nil, errors.New("stored idempotent response: too short")
	}
	body, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], s.aad(scope, status))
	if err != nil {
		return nil, fmt.Errorf("stored idempotent response: %w", err)
	}
	return body, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("idempotency cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// claimIdempotencyKey runs first in a create's transaction. It returns the
// first response when the key was used with the same request within
// IdempotencyTTL, booking.ErrIdempotencyKeyReused when it was used with
// another request, and (nil, secrets, nil) when the key is free: the caller
// then does the work and calls finishIdempotencyKey in the same transaction,
// which stores the key with its response in one INSERT.
//
// Concurrent calls with one key are decided by the (scope, key) primary key.
// On SQLite transactions run one at a time, so the second call reads the
// first's row and replays it. On PostgreSQL both may find the key free and
// do their work; the second's INSERT then waits for the first transaction:
// if it committed, the INSERT does nothing and finishIdempotencyKey asks for
// the whole transaction to run again (errRetry), undoing the second's work,
// and this time the read finds the first's response and replays it; if it
// rolled back, the second's INSERT goes through. A key is never visible to
// others before its response is stored, so there is no "in flight" state to
// report.
func claimIdempotencyKey(tx *gorm.DB, k *Idempotency, now time.Time) (*Response, idempotencySecrets, error) {
	if k.sec == nil {
		if err := k.prepare(); err != nil {
			return nil, idempotencySecrets{}, err
		}
	}
	sec := *k.sec
	sec.at = utc(now)
	rt, err := rawTxOf(tx)
	if err != nil {
		return nil, sec, fmt.Errorf("idempotency key: %w", err)
	}
	// A key older than its TTL is forgotten: finishIdempotencyKey replaces it.
	var first idempotencyRow
	err = rt.queryRow(`SELECT request_hash, response_status, response_body FROM idempotency_keys
WHERE scope = ? AND "key" = ? AND created_at >= ? LIMIT 1`, []any{k.Scope, sec.id, utc(now.Add(-IdempotencyTTL))},
		&first.RequestHash, &first.ResponseStatus, &first.ResponseBody)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sec, nil
	}
	if err != nil {
		return nil, sec, fmt.Errorf("idempotency key: %w", err)
	}
	if !hmac.Equal([]byte(first.RequestHash), []byte(sec.hash)) {
		return nil, sec, booking.ErrIdempotencyKeyReused
	}
	if first.ResponseStatus == 0 {
		// Not reachable: the row is written with its response. Kept as a
		// safe answer should one ever be stored without.
		return nil, sec, booking.Errorf(booking.CodeConflict, "a request with this Idempotency-Key is still being processed; retry shortly")
	}
	body, err := sec.open(k.Scope, first.ResponseStatus, first.ResponseBody)
	if err != nil {
		return nil, sec, err
	}
	resp, err := openEnvelope(first.ResponseStatus, body)
	if err != nil {
		return nil, sec, err
	}
	return &resp, sec, nil
}

// finishIdempotencyKey stores the key claimIdempotencyKey found free with
// the call's response, encrypted, in the claim's transaction: one INSERT,
// which also replaces a row older than the TTL. It returns errRetry when a
// live row for the key appeared since the claim (another instance's call,
// committed first; see claimIdempotencyKey).
func finishIdempotencyKey(tx *gorm.DB, k *Idempotency, sec idempotencySecrets, resp Response) error {
	env, err := resp.envelope()
	if err != nil {
		return err
	}
	status := resp.Status
	sealed, err := sec.seal(k.Scope, status, env)
	if err != nil {
		return err
	}
	rt, err := rawTxOf(tx)
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	res, err := rt.exec(`INSERT INTO idempotency_keys (scope, "key", request_hash, response_status, response_body, created_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (scope, "key") DO UPDATE SET request_hash = excluded.request_hash, response_status = excluded.response_status,
  response_body = excluded.response_body, created_at = excluded.created_at
WHERE idempotency_keys.created_at < ?`,
		k.Scope, sec.id, sec.hash, status, sealed, sec.at, utc(sec.at.Add(-IdempotencyTTL)))
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	} else if n == 0 {
		return errRetry
	}
	return nil
}

// PurgeIdempotencyKeys deletes the keys created before before (normally
// now minus IdempotencyTTL) and returns how many it deleted.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("created_at < ?", utc(before)).Delete(&idempotencyRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", res.Error)
	}
	return res.RowsAffected, nil
}
