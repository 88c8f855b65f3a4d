package delivery_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/clinic/consult/internal/delivery"
	"github.com/clinic/consult/internal/store"
	"github.com/clinic/consult/internal/storetest"
)

// BenchmarkInsertTx measures what writing messages adds to a transaction:
// n messages against a transaction that writes one plain row.
func BenchmarkInsertTx(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			s := storetest.Open(b, backend.URL(b))
			ctx := context.Background()
			if _, err := s.QueueDB().ExecContext(ctx, "CREATE TABLE bench_probe (n INTEGER)"); err != nil {
				b.Fatal(err)
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			ws := delivery.NewWorkers(0, log, nil)
			delivery.Register(ws, func(context.Context, delivery.Job[testArgs]) error { return nil }, nil)
			q, err := delivery.New(delivery.Config{DB: s.QueueDB(), Postgres: s.Dialect() == store.Postgres, Workers: ws, Log: log})
			if err != nil {
				b.Fatal(err)
			}
			for _, n := range []int{0, 1, 3} {
				b.Run(map[int]string{0: "row only", 1: "row+1 message", 3: "row+3 messages"}[n], func(b *testing.B) {
					msgs := make([]delivery.Insert, n)
					for i := range msgs {
						msgs[i] = delivery.Insert{Args: testArgs{MessageID: "x"}}
					}
					for b.Loop() {
						tx, err := s.QueueDB().BeginTx(ctx, nil)
						if err != nil {
							b.Fatal(err)
						}
						if _, err := tx.ExecContext(ctx, "INSERT INTO bench_probe (n) VALUES (1)"); err != nil {
							b.Fatal(err)
						}
						if err := q.InsertTx(ctx, tx, msgs...); err != nil {
							b.Fatal(err)
						}
						if err := tx.Commit(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
