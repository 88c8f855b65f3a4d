package booking

// FieldCode says which rule one invalid field breaks, so that a client can
// say it in its own language without reading the English message. The
// HTTP layer sends it as each field problem's "code".
type FieldCode string

// Field codes for the rules a JSON schema can state (each named for the
// kind of bound it breaks), then the business rules beyond a schema.
const (
	FieldRequired     FieldCode = "required"      // missing, empty, or only spaces
	FieldUnknownField FieldCode = "unknown_field" // not a field (or parameter) of this request
	FieldType         FieldCode = "type"          // a value of the wrong JSON type
	FieldFormat       FieldCode = "format"        // not a date, UUID, email, phone number, URL...
	FieldPattern      FieldCode = "pattern"       // characters the field does not take
	FieldEnum         FieldCode = "enum"          // not one of Allowed
	FieldTooShort     FieldCode = "too_short"     // fewer characters than Limit
	FieldTooLong      FieldCode = "too_long"      // more characters than Limit
	FieldTooSmall     FieldCode = "too_small"     // a number below Limit
	FieldTooLarge     FieldCode = "too_large"     // a number above Limit
	FieldTooFew       FieldCode = "too_few"       // fewer items or fields than Limit
	FieldTooMany      FieldCode = "too_many"      // more items than Limit
	FieldNotUnique    FieldCode = "not_unique"    // an item listed twice
	FieldConflict     FieldCode = "conflict"      // does not go with another field or value of the request

	FieldBeforeBirth      FieldCode = "before_birth"      // a date before the patient's date of birth
	FieldTooEarly         FieldCode = "too_early"         // a date before Limit, the earliest allowed
	FieldTooLate          FieldCode = "too_late"          // a date after Limit, the latest allowed
	FieldInPast           FieldCode = "in_past"           // an instant that has already passed
	FieldOutOfOrder       FieldCode = "out_of_order"      // an end before its start, a "to" before its "from"
	FieldNotAccepted      FieldCode = "not_accepted"      // a consent that must be given
	FieldNotFound         FieldCode = "not_found"         // names nothing known: an id, a cursor this list did not issue
	FieldInactive         FieldCode = "inactive"          // names a deactivated provider, location or consultation type
	FieldSameSlot         FieldCode = "same_slot"         // a move to the booking's current slot
	FieldSlotMismatch     FieldCode = "slot_mismatch"     // a move to a slot of another consultation type or provider
	FieldRangeTooLong     FieldCode = "range_too_long"    // a date range over Limit days
	FieldDurationTooLong  FieldCode = "duration_too_long" // a slot over Limit minutes
	FieldWindowTooShort   FieldCode = "window_too_short"  // a schedule window shorter than one slot of Limit minutes
	FieldPrivateAddress   FieldCode = "private_address"   // a webhook URL that reaches a private or reserved address
	FieldUnresolvableHost FieldCode = "unresolvable_host" // a webhook URL whose host does not resolve
)

// FieldCodes lists every field code the server can send; the spec's
// FieldError.code enum must list the same, and tests hold both to it.
func FieldCodes() []FieldCode {
	return []FieldCode{
		FieldRequired, FieldUnknownField, FieldType, FieldFormat, FieldPattern, FieldEnum,
		FieldTooShort, FieldTooLong, FieldTooSmall, FieldTooLarge, FieldTooFew, FieldTooMany,
		FieldNotUnique, FieldConflict,
		FieldBeforeBirth, FieldTooEarly, FieldTooLate, FieldInPast, FieldOutOfOrder,
		FieldNotAccepted, FieldNotFound, FieldInactive, FieldSameSlot, FieldSlotMismatch,
		FieldRangeTooLong, FieldDurationTooLong, FieldWindowTooShort,
		FieldPrivateAddress, FieldUnresolvableHost,
	}
}
