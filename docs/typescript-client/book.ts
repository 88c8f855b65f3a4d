// book.ts books the first free slot of the next two weeks through the
// public API, using only the types openapi-typescript generated from
// openapi.yaml (api.d.ts) and the platform's fetch. CI compiles it with
// `tsc --strict`: if the spec ever makes an optional request field
// required, or renames a field a client relies on, this stops compiling.
import type { components, operations } from "./api.d.ts";

type AvailabilityQuery = operations["getAvailability"]["parameters"]["query"];
type Availability = components["schemas"]["Availability"];
type BookingRequest = components["schemas"]["BookingRequestCreate"];
type BookingCreated = components["schemas"]["BookingCreated"];
type Problem = components["schemas"]["Problem"];
type ProblemCode = Problem["code"];

/** What a booking widget tells the patient for each problem code it may meet. */
function explain(code: ProblemCode): string {
  switch (code) {
    case "slot_unavailable":
      return "That time was just taken; please pick another.";
    case "validation_failed":
      return "Please check the highlighted fields.";
    case "rate_limited":
      return "Too many attempts; please wait a moment.";
    default:
      return "Something went wrong; please call the clinic.";
  }
}

async function findSlot(baseURL: string, query: AvailabilityQuery): Promise<string | undefined> {
  const params = new URLSearchParams({ from: query.from, to: query.to });
  if (query.consultation_type_id !== undefined) {
    params.set("consultation_type_id", query.consultation_type_id);
  }
  const res = await fetch(`${baseURL}/v1/availability?${params}`);
  if (!res.ok) {
    const p = (await res.json()) as Problem;
    throw new Error(explain(p.code));
  }
  const body = (await res.json()) as Availability;
  for (const day of body.days) {
    for (const slot of day.slots) {
      if (slot.remaining > 0) {
        return slot.id;
      }
    }
  }
  return undefined;
}

export async function bookFirstFreeSlot(baseURL: string, today: string, inTwoWeeks: string): Promise<BookingCreated> {
  const slotID = await findSlot(baseURL, { from: today, to: inTwoWeeks });
  if (slotID === undefined) {
    throw new Error("no free slot in the next two weeks");
  }
  // contact_by_sms, contact_by_email, patient.email and most intake
  // answers are optional: a request compiles without them.
  const request: BookingRequest = {
    slot_id: slotID,
    patient: { first_name: "Ana", last_name: "Lopez", date_of_birth: "1980-04-02", phone: "+14245550123" },
    intake: { red_flags: ["none"], pain_severity: 7, spasm_frequency: "daily", recent_physical_activity: false, reason: "lower back spasms" },
    consent: { privacy_policy_accepted: true },
  };
  const res = await fetch(`${baseURL}/v1/booking-requests`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID() },
    body: JSON.stringify(request),
  });
  if (res.status !== 201) {
    const p = (await res.json()) as Problem;
    const fields = (p.errors ?? []).map((f) => `${f.field}: ${f.message}`).join("; ");
    throw new Error(`${explain(p.code)} ${fields}`.trim());
  }
  // The manage token is the patient's secret: hand it to them (the
  // returned object holds it), never to a log.
  const created = (await res.json()) as BookingCreated;
  console.log(`booked ${created.reference}`);
  return created;
}
