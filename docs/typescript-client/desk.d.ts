// The API's shapes, by the names the staff console (web/desk/app.js) uses
// in its JSDoc; tsconfig.desk.json checks the console against them. They
// live here because the console's script may not contain `import(`, which
// its Content-Security-Policy test reads as a dynamic import.
import type { components } from "./api";

declare global {
  type S = components["schemas"];
  type Booking = S["Booking"];
  type Message = S["Message"];
  type Entry = S["WaitlistEntryStaff"];
  type CType = S["ConsultationType"];
  type Loc = S["Location"];
  type Question = S["IntakeQuestion"];
}

export {};
