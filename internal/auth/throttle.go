package auth

import (
	"context"
	"time"

	"github.com/clinic/consult/internal/limit"
)

// loginLimits are the login throttle's three counts of attempts, each in a
// one-minute window. An attempt is counted before its outcome is known, so
// concurrent guesses cannot all slip under a limit while each waits for its
// password check; a success is given back. Once a count reaches its limit
// every attempt it covers is refused until its window ends, the right
// password included.
//
//   - pair: one account from one address. A stranger guessing a
//     receptionist's password locks only their own address out of it.
//   - address: one address, any accounts: one address spraying guesses over
//     many accounts.
//   - account: one account from all addresses together, with a higher
//     limit: guessing one password from many addresses is still stopped.
type loginLimits struct {
	pair, address, account int
}

// rules returns the three counts an attempt on normalizedEmail from
// clientIP takes. An address is counted as the public limits count it (limit.ClientKey: an
// IPv6 address by its /64), so a guesser cannot start afresh from each of
// the 2^64 addresses it is given.
func (l loginLimits) rules(normalizedEmail, clientIP string) []limit.Rule {
	clientIP = limit.ClientKey(clientIP)
	return []limit.Rule{
		{Key: "login:pair:" + normalizedEmail + "\x00" + clientIP, Max: l.pair, Window: time.Minute},
		{Key: "login:addr:" + clientIP, Max: l.address, Window: time.Minute},
		{Key: "login:acct:" + normalizedEmail, Max: l.account, Window: time.Minute},
	}
}

// succeeded gives back a successful attempt: the account's failures from
// this address are forgotten, and the attempt is taken back from the
// address's and the account's counts (their other failures stay).
func (l loginLimits) succeeded(ctx context.Context, c limit.Counter, now time.Time, rules []limit.Rule) error {
	var undo []string
	for _, r := range rules[1:] {
		if r.Max > 0 {
			undo = append(undo, r.Key)
		}
	}
	if rules[0].Max > 0 {
		if err := c.Reset(ctx, []string{rules[0].Key}); err != nil {
			return err
		}
	}
	if len(undo) == 0 {
		return nil
	}
	return c.Undo(ctx, now, undo)
}
