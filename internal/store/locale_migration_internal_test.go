package store

import "testing"

// Bookings made before languages were recorded were made in English: the
// migration that adds the column gives them "en", and the catalogue's
// entries no translations and no contact details.
func TestLocaleMigrationGivesExistingRowsEnglish(t *testing.T) {
	ctx, db, p := oldBooking(t, 80)
	if _, err := p.UpTo(ctx, 81); err != nil {
		t.Fatal(err)
	}
	var locale, typeTr, locTr, phone, hours string
	if err := db.QueryRowContext(ctx, `SELECT locale FROM bookings WHERE id = 'b1'`).Scan(&locale); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT translations FROM consultation_types WHERE id = 'c1'`).Scan(&typeTr); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT translations, phone, opening_hours FROM locations WHERE id = 'l1'`).Scan(&locTr, &phone, &hours); err != nil {
		t.Fatal(err)
	}
	if got, want := [5]string{locale, typeTr, locTr, phone, hours}, [5]string{"en", "{}", "{}", "", ""}; got != want {
		t.Errorf("after 00081: got %q, want %q", got, want)
	}
	// And down again: the columns go.
	if _, err := p.DownTo(ctx, 80); err != nil {
		t.Fatalf("down: %v", err)
	}
}
