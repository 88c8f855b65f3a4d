// Clinic booking widget: <clinic-booking> (book a consultation) and
// <clinic-manage> (the patient's page: view, cancel, reschedule) and
// <clinic-waitlist> (the patient's waitlist entry: book or pass on a place
// offered, leave the waitlist).
//
// Plain modern JavaScript with no build step and no dependency. It talks
// only to the API of the origin this file was loaded from, renders into an
// open shadow root (themable through CSS custom properties), never uses
// inline scripts, inline style attributes or eval, so it runs under a strict
// Content-Security-Policy. Every text exists in English and Spanish
// (data-locale="es"); dates and times go through Intl in the clinic's zone.
(() => {
  "use strict";

  const script = document.currentScript;
  const API = script && script.src ? new URL(script.src).origin : location.origin;

  // ------------------------------------------------------------------ texts

  const TEXTS = {
    en: {
      title: "Book a consultation",
      loading: "Loading…",
      chooseType: "What kind of consultation?",
      minutes: (n) => `${n} minutes`,
      needsConfirmation: "The clinic confirms this request.",
      chooseSlot: "Choose a time",
      timesIn: (zone) => `Times are shown in the clinic's time zone (${zone}).`,
      noSlots: "No free times right now.",
      call: (phone) => (phone ? `Please call the clinic: ${phone}.` : "Please call the clinic."),
      lateSlot: "Cannot be changed online",
      lateWarning: (cutoff) => `This time starts within ${cutoff}: once booked, it cannot be changed or cancelled online.`,
      changeType: "Change consultation type",
      holding: "Holding this time…",
      heldUntil: (time) => `We keep this time for you until ${time}.`,
      slotGone: "Sorry, that time was just taken. Please choose another.",
      holdExpired: "Your hold on that time ended. Please choose a time again.",
      details: "Your details",
      selected: "Selected time",
      otherTime: "Choose another time",
      firstName: "First name",
      lastName: "Last name",
      dob: "Date of birth",
      phone: "Mobile phone",
      phoneHelp: "With country code, for example +1 424 555 0123.",
      email: "Email (optional)",
      intake: "About your pain",
      yes: "Yes",
      no: "No",
      required: "required",
      consent: "Consent",
      privacy: "I accept the clinic's privacy policy.",
      privacyBefore: "I accept the clinic's ",
      privacyLink: "privacy policy",
      privacyAfter: " (opens in a new tab).",
      consentNote: "We always email the address above about this booking: request received, confirmed, moved, cancelled.",
      sms: "Text me (SMS) about this booking: confirmation, changes and reminders.",
      emailConsent: "Also email me a reminder before the appointment.",
      submit: "Book this time",
      submitting: "Booking…",
      fixErrors: (n) => (n === 1 ? "Please correct 1 field." : `Please correct ${n} fields.`),
      offline: "We could not reach the clinic. Check your connection and try again; you will not be booked twice.",
      tooMany: (s) => `Too many attempts. Please try again in ${s} seconds.`,
      holdLimit: (s) => `You are already holding other times. Book one of them, or try again in ${s} seconds.`,
      patientLimit: (n) => (n === 1
        ? "You already have 1 upcoming appointment booked online, as many as one patient may have."
        : `You already have ${n} upcoming appointments booked online, as many as one patient may have.`),
      failed: "Something went wrong. Please try again, or call the clinic.",
      failedCall: (phone) => `Something went wrong. Please try again, or call the clinic: ${phone}.`,
      tryAgain: "Try again",
      booked: "Booked",
      emergencyTitle: "Please get medical help now",
      emergencyCall: "Call your local emergency number now (911 in the US and Canada, 112 in Europe), or go to the nearest emergency department.",
      emergencyClinic: "You can also call the clinic:",
      emergencyNotDiagnosis: "This is guidance based on your answers, not a diagnosis.",
      emergencyNothingBooked: "Nothing has been booked and your answers have not been kept.",
      emergencyBack: "I chose an answer by mistake",
      requested: "Request received",
      pendingNote: "The clinic will confirm your request.",
      confirmedNote: "Your consultation is confirmed.",
      reference: "Your reference",
      keepReference: "Keep this reference and the manage link: you need both to change your booking.",
      changesUntil: (t) => `You can change or cancel online until ${t}.`,
      noOnlineChanges: "This booking cannot be changed or cancelled online.",
      addToCalendar: "Add to calendar (.ics)",
      calendarMissing: "The calendar file is not available right now.",
      manageLink: "Manage your booking",
      with: "with",
      at: "at",
      // manage page
      manageTitle: "Your booking",
      missingLink: "This link is incomplete. Open the manage link from your confirmation again.",
      notFound: "We could not find this booking. Check the link from your confirmation.",
      status: "Status",
      statuses: {
        pending: "Requested (waiting for the clinic)", confirmed: "Confirmed", checked_in: "Checked in",
        completed: "Completed", no_show: "Missed", declined: "Declined", cancelled: "Cancelled", expired: "Expired",
      },
      when: "When",
      where: "Where",
      withWhom: "With",
      what: "Consultation",
      cancel: "Cancel booking",
      cancelConfirm: "Cancel this booking?",
      cancelYes: "Yes, cancel it",
      cancelNo: "No, keep it",
      cancelled: "Your booking is cancelled.",
      reschedule: "Move to another time",
      rescheduleTitle: "Choose a new time",
      rescheduled: "Your booking was moved.",
      back: "Back",
      windowClosed: "Online changes are closed for this booking.",
      confirmMoveTitle: "Move your booking?",
      from: "From",
      to: "To",
      confirmMove: "Yes, move it",
      otherNewTime: "Choose another time",
      lateMove: (cutoff) => `The new time starts within ${cutoff}: after this move you cannot change or cancel it online.`,
      // waitlist page
      waitTitle: "Your place on the waitlist",
      waitMissingLink: "This link is incomplete. Open the link from your email or text message again.",
      waitNotFound: "This link is not valid.",
      waitStatuses: {
        waiting: "On the waitlist: we will write when a time is free",
        offered: "A time is offered to you",
        booked: "Booked from the waitlist",
        lapsed: "Ended: the dates you asked for have passed",
        left: "You left the waitlist",
      },
      waitDates: "Dates wanted",
      offeredTime: "Offered time",
      offerUntil: (t) => `We keep this time for you until ${t}; then it goes to the next patient.`,
      acceptOffer: "Book this time",
      declineOffer: "Not this time",
      leaveWaitlist: "Leave the waitlist",
      leaveConfirm: "Leave the waitlist?",
      leaveNote: "You will no longer be offered free times for this request.",
      leaveYes: "Yes, leave it",
      leaveNo: "No, stay on it",
      leftNote: "You are no longer on the waitlist.",
      declinedNote: "We passed this time on. You stay on the waitlist for another time.",
      offerExpired: "Sorry, this offer has ended and the time went to the next patient. You are still on the waitlist: we will write when another time is free.",
      offerGone: "Sorry, this time is no longer available. You are still on the waitlist: we will write when another time is free.",
      waitBookedEmail: "The link to manage this booking comes by email.",
      // joining the waitlist from the booking widget
      noneSuit: "None of these times suit you?",
      noneFree: "No free times right now for this consultation.",
      waitJoin: "Join the waitlist",
      waitJoinIntro: "Tell us the dates and times of day that suit you. When a time that fits becomes free, we send you an email or a text message with a link to book it; the time is kept for you for a short while.",
      waitWhen: "When could you come?",
      waitEarliest: "From (earliest date)",
      waitLatest: "Until (latest date)",
      waitTimes: "Time of day",
      waitTimeOptions: { any: "Any time", morning: "Mornings (before noon)", afternoon: "Afternoons (from noon)" },
      waitConsentNote: "We tell you of a free time only in the ways you tick below: tick at least one, or we cannot reach you.",
      waitSms: "Text me (SMS) when a time becomes free for me.",
      waitEmail: "Email me when a time becomes free for me.",
      waitSubmit: "Join the waitlist",
      waitSubmitting: "Joining…",
      waitBackToTimes: "Back to the free times",
      waitJoined: "You are on the waitlist",
      waitJoinedNote: "When a time that fits your dates becomes free, we send you an email or a text message (as you chose) with a link to book it. Nothing is booked until you follow that link.",
      waitKeep: "Keep this reference and the link below: with them you can see your place or leave the waitlist.",
      waitPageLink: "See or leave your place on the waitlist",
      waitAlready: "You are already on the waitlist",
      waitAlreadyResent: "You are already on the waitlist for these dates, so nothing has changed. We sent the link to your place again, by email or text message as you chose when you joined.",
      waitAlreadyRecent: "You are already on the waitlist for these dates, so nothing has changed. We sent the link to your place a few minutes ago: please look for that email or text message.",
    },
    es: {
      title: "Reservar una consulta",
      loading: "Cargando…",
      chooseType: "¿Qué tipo de consulta?",
      minutes: (n) => `${n} minutos`,
      needsConfirmation: "La clínica confirma esta solicitud.",
      chooseSlot: "Elija una hora",
      timesIn: (zone) => `Las horas se muestran en la zona horaria de la clínica (${zone}).`,
      noSlots: "No hay horas libres ahora.",
      call: (phone) => (phone ? `Llame a la clínica, por favor: ${phone}.` : "Llame a la clínica, por favor."),
      lateSlot: "No se puede cambiar en línea",
      lateWarning: (cutoff) => `Esta hora empieza en menos de ${cutoff}: una vez reservada, no se podrá cambiar ni cancelar en línea.`,
      changeType: "Cambiar el tipo de consulta",
      holding: "Reservando esta hora…",
      heldUntil: (time) => `Le guardamos esta hora hasta las ${time}.`,
      slotGone: "Lo sentimos, esa hora se acaba de ocupar. Elija otra, por favor.",
      holdExpired: "Terminó el tiempo para esa hora. Elija una hora de nuevo, por favor.",
      details: "Sus datos",
      selected: "Hora elegida",
      otherTime: "Elegir otra hora",
      firstName: "Nombre",
      lastName: "Apellidos",
      dob: "Fecha de nacimiento",
      phone: "Teléfono móvil",
      phoneHelp: "Con prefijo del país, por ejemplo +34 612 345 678.",
      email: "Correo electrónico (opcional)",
      intake: "Sobre su dolor",
      yes: "Sí",
      no: "No",
      required: "obligatorio",
      consent: "Consentimiento",
      privacy: "Acepto la política de privacidad de la clínica.",
      privacyBefore: "Acepto la ",
      privacyLink: "política de privacidad",
      privacyAfter: " de la clínica (se abre en una pestaña nueva).",
      consentNote: "Siempre escribimos a la dirección de correo indicada sobre esta reserva: solicitud recibida, confirmada, cambiada, cancelada.",
      sms: "Enviarme SMS sobre esta reserva: confirmación, cambios y recordatorios.",
      emailConsent: "Enviarme también un recordatorio por correo electrónico antes de la cita.",
      submit: "Reservar esta hora",
      submitting: "Reservando…",
      fixErrors: (n) => (n === 1 ? "Corrija 1 campo, por favor." : `Corrija ${n} campos, por favor.`),
      offline: "No pudimos contactar con la clínica. Compruebe su conexión e inténtelo de nuevo; no se reservará dos veces.",
      tooMany: (s) => `Demasiados intentos. Inténtelo de nuevo en ${s} segundos.`,
      holdLimit: (s) => `Ya tiene otras horas guardadas. Reserve una de ellas o inténtelo de nuevo en ${s} segundos.`,
      patientLimit: (n) => (n === 1
        ? "Ya tiene 1 cita próxima reservada en línea, tantas como puede tener un paciente."
        : `Ya tiene ${n} citas próximas reservadas en línea, tantas como puede tener un paciente.`),
      failed: "Algo salió mal. Inténtelo de nuevo o llame a la clínica.",
      failedCall: (phone) => `Algo salió mal. Inténtelo de nuevo o llame a la clínica: ${phone}.`,
      tryAgain: "Reintentar",
      booked: "Reservada",
      emergencyTitle: "Busque atención médica ahora",
      emergencyCall: "Llame ahora al número de emergencias (112 en Europa, 911 en Estados Unidos y muchos países de América) o acuda al servicio de urgencias más cercano.",
      emergencyClinic: "También puede llamar a la clínica:",
      emergencyNotDiagnosis: "Es una orientación basada en sus respuestas, no un diagnóstico.",
      emergencyNothingBooked: "No se ha reservado nada y no se han guardado sus respuestas.",
      emergencyBack: "Elegí una respuesta por error",
      requested: "Solicitud recibida",
      pendingNote: "La clínica confirmará su solicitud.",
      confirmedNote: "Su consulta está confirmada.",
      reference: "Su referencia",
      keepReference: "Guarde esta referencia y el enlace de gestión: necesitará ambos para cambiar su reserva.",
      changesUntil: (t) => `Puede cambiar o cancelar en línea hasta el ${t}.`,
      noOnlineChanges: "Esta reserva no se puede cambiar ni cancelar en línea.",
      addToCalendar: "Añadir al calendario (.ics)",
      calendarMissing: "El archivo de calendario no está disponible ahora.",
      manageLink: "Gestionar su reserva",
      with: "con",
      at: "en",
      manageTitle: "Su reserva",
      missingLink: "Este enlace está incompleto. Abra de nuevo el enlace de gestión de su confirmación.",
      notFound: "No encontramos esta reserva. Compruebe el enlace de su confirmación.",
      status: "Estado",
      statuses: {
        pending: "Solicitada (pendiente de la clínica)", confirmed: "Confirmada", checked_in: "Registrada",
        completed: "Realizada", no_show: "No asistió", declined: "Rechazada", cancelled: "Cancelada", expired: "Caducada",
      },
      when: "Cuándo",
      where: "Dónde",
      withWhom: "Con",
      what: "Consulta",
      cancel: "Cancelar la reserva",
      cancelConfirm: "¿Cancelar esta reserva?",
      cancelYes: "Sí, cancelarla",
      cancelNo: "No, mantenerla",
      cancelled: "Su reserva está cancelada.",
      reschedule: "Cambiar a otra hora",
      rescheduleTitle: "Elija una nueva hora",
      rescheduled: "Su reserva se ha cambiado.",
      back: "Volver",
      windowClosed: "Los cambios en línea están cerrados para esta reserva.",
      confirmMoveTitle: "¿Cambiar su reserva?",
      from: "De",
      to: "A",
      confirmMove: "Sí, cambiarla",
      otherNewTime: "Elegir otra hora",
      lateMove: (cutoff) => `La nueva hora empieza en menos de ${cutoff}: tras este cambio no podrá cambiarla ni cancelarla en línea.`,
      // página de la lista de espera
      waitTitle: "Su lugar en la lista de espera",
      waitMissingLink: "Este enlace está incompleto. Abra de nuevo el enlace de su correo o mensaje de texto.",
      waitNotFound: "Este enlace no es válido.",
      waitStatuses: {
        waiting: "En la lista de espera: le escribiremos cuando haya una hora libre",
        offered: "Se le ofrece una hora",
        booked: "Reservada desde la lista de espera",
        lapsed: "Terminada: las fechas que pidió ya pasaron",
        left: "Salió de la lista de espera",
      },
      waitDates: "Fechas deseadas",
      offeredTime: "Hora ofrecida",
      offerUntil: (t) => `Le guardamos esta hora hasta ${t}; después pasa al siguiente paciente.`,
      acceptOffer: "Reservar esta hora",
      declineOffer: "Esta hora no",
      leaveWaitlist: "Salir de la lista de espera",
      leaveConfirm: "¿Salir de la lista de espera?",
      leaveNote: "Ya no se le ofrecerán horas libres para esta solicitud.",
      leaveYes: "Sí, salir",
      leaveNo: "No, seguir en ella",
      leftNote: "Ya no está en la lista de espera.",
      declinedNote: "Pasamos esta hora a otro paciente. Sigue en la lista de espera para otra hora.",
      offerExpired: "Lo sentimos, esta oferta terminó y la hora pasó al siguiente paciente. Sigue en la lista de espera: le escribiremos cuando haya otra hora libre.",
      offerGone: "Lo sentimos, esta hora ya no está disponible. Sigue en la lista de espera: le escribiremos cuando haya otra hora libre.",
      waitBookedEmail: "El enlace para gestionar esta reserva le llega por correo.",
      // entrar en la lista de espera desde el widget de reserva
      noneSuit: "¿No le conviene ninguna de estas horas?",
      noneFree: "No hay horas libres ahora para esta consulta.",
      waitJoin: "Apuntarse a la lista de espera",
      waitJoinIntro: "Indíquenos las fechas y los momentos del día que le convienen. Cuando quede libre una hora que encaje, le enviamos un correo o un mensaje de texto con un enlace para reservarla; la hora se le guarda durante un rato.",
      waitWhen: "¿Cuándo podría venir?",
      waitEarliest: "Desde (primera fecha)",
      waitLatest: "Hasta (última fecha)",
      waitTimes: "Momento del día",
      waitTimeOptions: { any: "Cualquier hora", morning: "Mañanas (antes de las 12)", afternoon: "Tardes (desde las 12)" },
      waitConsentNote: "Le avisamos de una hora libre solo por las vías que marque abajo: marque al menos una o no podremos avisarle.",
      waitSms: "Enviarme un SMS cuando quede libre una hora para mí.",
      waitEmail: "Enviarme un correo cuando quede libre una hora para mí.",
      waitSubmit: "Apuntarme a la lista de espera",
      waitSubmitting: "Apuntando…",
      waitBackToTimes: "Volver a las horas libres",
      waitJoined: "Está en la lista de espera",
      waitJoinedNote: "Cuando quede libre una hora dentro de sus fechas, le enviamos un correo o un mensaje de texto (como eligió) con un enlace para reservarla. No se reserva nada hasta que siga ese enlace.",
      waitKeep: "Guarde esta referencia y el enlace de abajo: con ellos puede ver su lugar o salir de la lista de espera.",
      waitPageLink: "Ver su lugar o salir de la lista de espera",
      waitAlready: "Ya está en la lista de espera",
      waitAlreadyResent: "Ya está en la lista de espera para estas fechas, así que nada ha cambiado. Le hemos enviado de nuevo el enlace a su lugar, por correo o mensaje de texto como eligió al apuntarse.",
      waitAlreadyRecent: "Ya está en la lista de espera para estas fechas, así que nada ha cambiado. Le enviamos el enlace a su lugar hace unos minutos: busque ese correo o mensaje de texto.",
    },
  };

  // Field problems: the server names the rule each field breaks (`code`)
  // and the bound it broke (`limit`, `allowed`); the widget says it in the
  // reader's language from those, never from the English `message`. Every
  // code of FieldError.code in openapi.yaml has an entry in each language
  // (a Go test holds the table to the spec's list).
  const limitDay = (locale, f) =>
    new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" }).format(new Date(`${f.limit}T00:00:00Z`));
  const allowedList = (f) => (f.allowed || []).join(", ");
  const FIELD_MESSAGES = {
    en: {
      required: () => "This field is required.",
      unknown_field: () => "This field is not expected here.",
      type: () => "This value has the wrong type.",
      format: (f) => FORMAT_HINTS.en[fieldKey(f.field).split(".").pop()] || "This is not in the expected form.",
      pattern: (f) => FORMAT_HINTS.en[fieldKey(f.field).split(".").pop()] || "This contains characters that are not allowed.",
      enum: (f) => `Choose one of: ${allowedList(f)}.`,
      too_short: (f) => `Use at least ${f.limit} characters.`,
      too_long: (f) => `Use at most ${f.limit} characters.`,
      too_small: (f) => `Must be at least ${f.limit}.`,
      too_large: (f) => `Must be at most ${f.limit}.`,
      too_few: (f) => `Choose at least ${f.limit}.`,
      too_many: (f) => `Choose at most ${f.limit}.`,
      not_unique: () => "Each answer may be chosen once.",
      conflict: () => "This does not go with another answer.",
      before_birth: () => "Cannot be before the date of birth.",
      too_early: (f, l) => `Cannot be before ${limitDay(l, f)}.`,
      too_late: (f, l) => `Cannot be after ${limitDay(l, f)}.`,
      in_past: () => "This time has already passed.",
      out_of_order: () => "Must come after the start.",
      not_accepted: () => "Please accept it to continue.",
      not_found: () => "This was not found; please choose again.",
      inactive: () => "This is no longer available.",
      same_slot: () => "This is already your time.",
      slot_mismatch: () => "Choose a time for the same kind of consultation.",
      range_too_long: (f) => `Choose at most ${f.limit} days.`,
      duration_too_long: (f) => `At most ${f.limit} minutes.`,
      window_too_short: (f) => `Too short for one ${f.limit}-minute appointment.`,
      private_address: () => "This address cannot be used.",
      unresolvable_host: () => "This address cannot be found.",
    },
    es: {
      required: () => "Este dato es obligatorio.",
      unknown_field: () => "Este dato no se esperaba aquí.",
      type: () => "Este dato no tiene el tipo correcto.",
      format: (f) => FORMAT_HINTS.es[fieldKey(f.field).split(".").pop()] || "El formato no es válido.",
      pattern: (f) => FORMAT_HINTS.es[fieldKey(f.field).split(".").pop()] || "Contiene caracteres no válidos.",
      enum: (f) => `Elija una de estas opciones: ${allowedList(f)}.`,
      too_short: (f) => `Escriba al menos ${f.limit} caracteres.`,
      too_long: (f) => `Como máximo ${f.limit} caracteres.`,
      too_small: (f) => `Debe ser como mínimo ${f.limit}.`,
      too_large: (f) => `Debe ser como máximo ${f.limit}.`,
      too_few: (f) => `Elija al menos ${f.limit}.`,
      too_many: (f) => `Elija como máximo ${f.limit}.`,
      not_unique: () => "Cada respuesta solo puede elegirse una vez.",
      conflict: () => "No es compatible con otro dato.",
      before_birth: () => "No puede ser anterior a la fecha de nacimiento.",
      too_early: (f, l) => `No puede ser anterior al ${limitDay(l, f)}.`,
      too_late: (f, l) => `No puede ser posterior al ${limitDay(l, f)}.`,
      in_past: () => "Esta hora ya ha pasado.",
      out_of_order: () => "Debe ser posterior al inicio.",
      not_accepted: () => "Debe aceptarla para continuar.",
      not_found: () => "No se ha encontrado; elija de nuevo.",
      inactive: () => "Ya no está disponible.",
      same_slot: () => "Ya es su hora actual.",
      slot_mismatch: () => "Elija una hora para el mismo tipo de consulta.",
      range_too_long: (f) => `Elija como máximo ${f.limit} días.`,
      duration_too_long: (f) => `Como máximo ${f.limit} minutos.`,
      window_too_short: (f) => `Demasiado corto para una cita de ${f.limit} minutos.`,
      private_address: () => "Esta dirección no se puede usar.",
      unresolvable_host: () => "No se encuentra esta dirección.",
    },
  };
  // What a "format" or "pattern" problem means for the fields the widget
  // asks for whose form is particular.
  const FORMAT_HINTS = {
    en: {
      phone: "Enter a phone number with its country code, such as +1 424 555 0123.",
      email: "Enter an email address, such as ana@example.com.",
      date_of_birth: "Enter a valid date.",
      pain_started_on: "Enter a valid date.",
    },
    es: {
      phone: "Escriba un teléfono con el prefijo del país, por ejemplo +34 612 345 678.",
      email: "Escriba una dirección de correo válida, por ejemplo ana@example.com.",
      date_of_birth: "Escriba una fecha válida.",
      pain_started_on: "Escriba una fecha válida.",
    },
  };

  function fieldMessage(locale, f) {
    const lang = FIELD_MESSAGES[locale] ? locale : "en";
    const say = FIELD_MESSAGES[lang][f.code];
    if (say) return say(f, lang);
    // A code added after this widget was built.
    return lang === "es" ? "Revise este dato." : "Please check this field.";
  }

  const PATIENT_FIELDS = [
    ["patient.first_name", "firstName", "text", "given-name", true],
    ["patient.last_name", "lastName", "text", "family-name", true],
    ["patient.date_of_birth", "dob", "date", "bday", true],
    ["patient.phone", "phone", "tel", "tel", true],
    ["patient.email", "email", "email", "email", false],
  ];

  // ------------------------------------------------------------------ styles

  const CSS = `
:host { display: block; font-family: var(--clinic-font, system-ui, sans-serif); color: var(--clinic-fg, #1a1a1a);
  background: var(--clinic-bg, #ffffff); max-width: 40rem; line-height: 1.5; }
* { box-sizing: border-box; }
.box { padding: var(--clinic-padding, 1rem); border: 1px solid var(--clinic-border, #8a8a8a); border-radius: var(--clinic-radius, 8px); }
h2 { font-size: 1.35rem; margin: 0 0 .75rem; }
h3 { font-size: 1.1rem; margin: 1rem 0 .5rem; }
h2:focus { outline: 2px solid var(--clinic-accent, #0b5cad); outline-offset: 2px; }
p { margin: .4rem 0; }
button, .button { font: inherit; cursor: pointer; border-radius: var(--clinic-radius, 8px); padding: .6rem 1rem;
  border: 2px solid var(--clinic-accent, #0b5cad); background: var(--clinic-accent, #0b5cad); color: var(--clinic-accent-fg, #ffffff);
  min-height: 44px; text-decoration: none; display: inline-block; text-align: center; }
button.secondary, .button.secondary { background: transparent; color: var(--clinic-accent, #0b5cad); }
button:focus-visible, input:focus-visible, textarea:focus-visible, select:focus-visible, a:focus-visible {
  outline: 3px solid var(--clinic-focus, #f5a000); outline-offset: 2px; }
button[aria-disabled=true], button[aria-busy=true] { opacity: .6; cursor: progress; }
.types, .slots { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0; padding: 0; list-style: none; }
.types button { text-align: left; width: 100%; }
.types li { width: 100%; }
.slots button { min-width: 6.5rem; }
.late { display: block; font-size: .8rem; }
.day { margin-bottom: .75rem; }
label { display: block; font-weight: 600; margin-top: .75rem; }
fieldset { border: 1px solid var(--clinic-border, #8a8a8a); border-radius: var(--clinic-radius, 8px); margin: .75rem 0; padding: .5rem .75rem; }
legend { font-weight: 600; padding: 0 .25rem; }
fieldset label, label.check { font-weight: normal; display: flex; gap: .5rem; align-items: center; margin: .25rem 0; }
.scale { display: flex; flex-wrap: wrap; gap: .25rem .75rem; }
input[type=text], input[type=tel], input[type=email], input[type=date], textarea { font: inherit; width: 100%;
  padding: .5rem; border: 1px solid var(--clinic-border, #8a8a8a); border-radius: 4px; background: #fff; color: #1a1a1a; }
input[type=radio], input[type=checkbox] { width: 1.25rem; height: 1.25rem; flex: none; }
textarea { min-height: 5rem; }
.help { font-size: .9rem; color: var(--clinic-muted, #4a4a4a); margin: .1rem 0; }
.error { color: var(--clinic-error, #b00020); font-weight: 600; margin: .25rem 0; }
.error:empty { display: none; }
input[aria-invalid=true], textarea[aria-invalid=true] { border-color: var(--clinic-error, #b00020); border-width: 2px; }
.notice { padding: .5rem .75rem; border-left: 4px solid var(--clinic-accent, #0b5cad); background: var(--clinic-notice-bg, #eef4fb); }
.notice:empty { display: none; }
.warn { border-left-color: var(--clinic-error, #b00020); }
.reference { font-size: 1.6rem; font-weight: 700; letter-spacing: .08em; font-family: ui-monospace, monospace; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin-top: 1rem; }
dl { margin: .5rem 0; } dt { font-weight: 600; } dd { margin: 0 0 .5rem; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0,0,0,0); border: 0; }
@media (max-width: 400px) { .slots button { flex: 1 1 45%; } .actions > * { width: 100%; } }
`;

  let sheet = null;
  function styles() {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    return [sheet];
  }

  // ------------------------------------------------------------------ helpers

  // h builds an element: h("p", {class: "x"}, "text", child...). Attributes
  // go through setAttribute (never "style", never event attributes).
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === null || v === undefined) continue;
      if (k === "on") {
        for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      } else if (k === "dataset") {
        Object.assign(el.dataset, v);
      } else if (k in el && typeof v !== "string") {
        el[k] = v;
      } else {
        el.setAttribute(k, v === true ? "" : v);
      }
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function pickLocale(el) {
    const want = (el.getAttribute("data-locale") || el.getAttribute("lang") || document.documentElement.lang || navigator.language || "en").toLowerCase();
    return want.startsWith("es") ? "es" : "en";
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  // ApiError is a failed API call: status 0 is a network failure.
  class ApiError extends Error {
    constructor(status, problem, retryAfter) {
      super((problem && problem.detail) || "request failed");
      this.status = status;
      this.code = (problem && problem.code) || "";
      this.fields = (problem && problem.errors) || [];
      this.triage = (problem && problem.triage) || null;
      this.limit = (problem && problem.limit) || 0;
      this.retryAfter = retryAfter;
    }
  }

  async function api(method, path, { body, headers, raw } = {}) {
    const init = { method, headers: Object.assign({ Accept: "application/json" }, headers || {}), mode: "cors", credentials: "omit" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(API + path, init);
    } catch (e) {
      throw new ApiError(0, null, 0);
    }
    if (res.ok) {
      if (raw) return res;
      return res.status === 204 ? null : res.json().catch(() => null);
    }
    let problem = null;
    try {
      problem = await res.json();
    } catch (e) {
      problem = null;
    }
    throw new ApiError(res.status, problem, parseInt(res.headers.get("Retry-After") || "0", 10) || 0);
  }

  function fmt(locale, zone, opts) {
    return new Intl.DateTimeFormat(locale === "es" ? "es-ES" : "en-US", Object.assign({ timeZone: zone }, opts));
  }
  const dayFmt = (l, z) => fmt(l, z, { weekday: "long", day: "numeric", month: "long" });
  const timeFmt = (l, z) => fmt(l, z, { hour: "numeric", minute: "2-digit" });
  const fullFmt = (l, z) => fmt(l, z, { weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" });

  function durationText(locale, seconds) {
    const hours = Math.round(seconds / 3600);
    try {
      return new Intl.NumberFormat(locale === "es" ? "es-ES" : "en-US", { style: "unit", unit: "hour", unitDisplay: "long" }).format(hours);
    } catch (e) {
      return `${hours} h`;
    }
  }

  // fieldKey maps an error's field ("intake.relieved_by[1]") to its input name.
  const fieldKey = (f) => f.replace(/\[\d+\]$/, "");
  const errId = (name) => "err-" + name.replace(/[^a-z0-9_-]/gi, "-");

  // A base element with the shadow root, the texts, a live region and a
  // helper that moves focus to each new step's heading.
  class Base extends HTMLElement {
    connectedCallback() {
      if (this.root) return;
      this.locale = pickLocale(this);
      this.t = TEXTS[this.locale];
      this.root = this.attachShadow({ mode: "open" });
      this.root.adoptedStyleSheets = styles();
      this.live = h("div", { class: "sr-only", role: "status", "aria-live": "polite" });
      this.view = h("div", { class: "box", lang: this.locale });
      this.root.append(this.live, this.view);
      // Focus moves to each new step's heading once the visitor works with
      // the widget, not when the host page loads it.
      this.autoFocus = false;
      const engaged = () => { this.autoFocus = true; };
      this.view.addEventListener("click", engaged, true);
      this.view.addEventListener("keydown", engaged, true);
      this.start();
    }

    // speakAs switches to the language a booking or waitlist entry was
    // made in (its emails and texts speak it too), and on the hosted page
    // (data-page) the page's own title, t[titleKey], with it.
    speakAs(locale, titleKey) {
      if (!locale || !TEXTS[locale] || locale === this.locale) return;
      this.locale = locale;
      this.t = TEXTS[locale];
      this.view.lang = locale;
      if (this.hasAttribute("data-page")) {
        document.documentElement.lang = locale;
        document.title = this.t[titleKey];
        const h1 = document.querySelector("h1");
        if (h1) h1.textContent = this.t[titleKey];
      }
    }

    announce(text) {
      this.live.textContent = "";
      // A fresh text node is read even when the text repeats.
      setTimeout(() => { this.live.textContent = text; }, 50);
    }

    // show replaces the view with a step: heading first, focused.
    show(title, ...content) {
      const heading = h("h2", { tabindex: "-1" }, title);
      // replaceChildren would write a left-out part (null) as the text
      // "null": only nodes and text go in.
      this.view.replaceChildren(heading, ...content.flat().filter((c) => c !== null && c !== undefined && c !== false));
      if (this.autoFocus) heading.focus();
      this.dispatchEvent(new CustomEvent("clinic-step", { detail: { step: this.step }, bubbles: true, composed: true }));
    }

    message(e) {
      const t = this.t;
      if (!(e instanceof ApiError)) return t.failed;
      if (e.status === 0) return t.offline;
      if (e.code === "hold_limit") return t.holdLimit(e.retryAfter || 60);
      if (e.status === 429) return t.tooMany(e.retryAfter || 60);
      return this.phone() ? t.failedCall(this.phone()) : t.failed;
    }

    // phone is the number a patient is told to call: the booking's (its
    // location's, else the clinic's), else the clinic's from the policy.
    phone() {
      return (this.booking && this.booking.clinic_phone) || (this.policy && this.policy.clinic_phone) || "";
    }

    // callClinic is "please call the clinic", with the number as a link.
    callClinic(text) {
      const phone = this.phone();
      const call = this.t.call(phone);
      if (!phone) return h("span", {}, text ? text + " " + call : call);
      const [before, after] = call.split(phone);
      return h("span", { "data-call": phone }, text ? text + " " : "", before, h("a", { href: "tel:" + phone }, phone), after);
    }

    slotButtons(slots, onPick, lateCutoff) {
      const t = this.t;
      const out = [];
      const byDay = new Map();
      for (const s of slots) {
        const key = dayFmt(this.locale, s.timezone).format(new Date(s.start_at)) + "|" + s.timezone;
        if (!byDay.has(key)) byDay.set(key, []);
        byDay.get(key).push(s);
      }
      const zones = new Set(slots.map((s) => s.timezone));
      out.push(h("p", { class: "help" }, t.timesIn([...zones].join(", "))));
      for (const [key, list] of byDay) {
        const label = key.split("|")[0];
        const headingId = "day-" + out.length;
        out.push(h("section", { class: "day", "aria-labelledby": headingId },
          h("h3", { id: headingId }, label),
          h("ul", { class: "slots" }, list.map((s) => {
            const start = new Date(s.start_at);
            const late = lateCutoff !== undefined && start.getTime() - Date.now() < lateCutoff * 1000;
            return h("li", {}, h("button", {
              type: "button", class: "secondary", dataset: { slotId: s.id },
              "aria-label": `${label}, ${timeFmt(this.locale, s.timezone).format(start)}${late ? ", " + t.lateSlot : ""}`,
              on: { click: (ev) => onPick(s, ev.currentTarget) },
            }, timeFmt(this.locale, s.timezone).format(start), late ? h("span", { class: "late" }, t.lateSlot) : null));
          }))));
      }
      return out;
    }
  }

  // ------------------------------------------------------------------ <clinic-booking>

  class ClinicBooking extends Base {
    async start() {
      this.step = "loading";
      this.gone = new Set(); // slots lost to others, never offered again
      this.show(this.t.title, h("p", {}, this.t.loading));
      try {
        const [types, providers, locations, policy, form] = await Promise.all([
          api("GET", "/v1/consultation-types?locale=" + this.locale),
          api("GET", "/v1/providers"),
          api("GET", "/v1/locations?locale=" + this.locale),
          api("GET", "/v1/booking-policy"),
          api("GET", "/v1/intake-form?locale=" + this.locale),
        ]);
        this.types = types.items;
        this.providers = new Map(providers.items.map((p) => [p.id, p]));
        this.locations = new Map(locations.items.map((l) => [l.id, l]));
        this.policy = policy;
        this.form = form.questions;
        this.triageRules = form.triage_rules || [];
        this.clinicPhone = form.clinic_phone || "";
      } catch (e) {
        this.show(this.t.title, this.errorBox(this.message(e), () => this.start()));
        return;
      }
      const wanted = this.getAttribute("data-consultation-type");
      const type = this.types.find((c) => c.id === wanted);
      if (type) this.pickType(type, false);
      else this.chooseType();
    }

    errorBox(text, retry) {
      return h("div", {},
        h("p", { class: "notice warn", role: "alert" }, text),
        retry ? h("div", { class: "actions" }, h("button", { type: "button", on: { click: retry } }, this.t.tryAgain)) : null);
    }

    chooseType() {
      this.step = "type";
      const t = this.t;
      this.show(t.chooseType, h("ul", { class: "types" }, this.types.map((c) => h("li", {},
        h("button", { type: "button", class: "secondary", dataset: { consultationTypeId: c.id }, on: { click: () => this.pickType(c, true) } },
          h("strong", {}, c.name), " · ", t.minutes(c.duration_minutes),
          c.description ? h("span", { class: "late" }, c.description) : null)))));
    }

    async pickType(type, canChange) {
      this.type = type;
      this.canChangeType = canChange || this.types.length > 1;
      await this.chooseSlot();
    }

    async chooseSlot(notice) {
      this.step = "slots";
      const t = this.t;
      this.show(t.chooseSlot, h("p", {}, t.loading));
      let slots;
      try {
        const r = await api("GET", `/v1/availability/next?consultation_type_id=${encodeURIComponent(this.type.id)}&limit=50&locale=${this.locale}`);
        slots = r.slots.filter((s) => !this.gone.has(s.id));
      } catch (e) {
        this.show(t.chooseSlot, this.errorBox(this.message(e), () => this.chooseSlot()));
        return;
      }
      const noticeBox = h("p", { class: "notice warn", role: "alert", tabindex: "-1" }, notice || "");
      const body = slots.length ? this.slotButtons(slots, (s, btn) => this.hold(s, btn, noticeBox), this.policy.patient_change_cutoff) : [h("p", {}, this.callClinic(t.noSlots))];
      // Nothing fits the patient's dates (or nothing is free at all): the
      // waitlist offers them the next place that frees within them.
      const waitlist = h("section", { class: "notice", "aria-labelledby": "wait-offer" },
        h("h3", { id: "wait-offer" }, slots.length ? t.noneSuit : t.noneFree),
        h("p", {}, t.waitJoinIntro),
        h("button", { type: "button", class: slots.length ? "secondary" : "", dataset: { action: "waitlist" }, on: { click: () => this.waitlistForm() } }, t.waitJoin));
      this.show(`${t.chooseSlot}: ${this.type.name}`, noticeBox, ...body, waitlist,
        this.canChangeType ? h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", on: { click: () => this.chooseType() } }, t.changeType)) : null);
      if (notice) this.announce(notice);
    }

    async hold(slot, button, noticeBox) {
      const t = this.t;
      if (this.busy) return;
      this.busy = true;
      // Not disabled: a disabled button would lose the keyboard focus.
      button.setAttribute("aria-busy", "true");
      this.announce(t.holding);
      try {
        this.held = await api("POST", "/v1/slot-holds", { body: { slot_id: slot.id } });
        this.chosen = slot;
        this.key = newKey(); // one Idempotency-Key per held slot: retries reuse it
        this.details();
      } catch (e) {
        button.removeAttribute("aria-busy");
        if (e.code === "hold_share_reached") {
          // Too much of this day is held at the moment, but the time is
          // free: book it without a hold (the request itself takes the
          // place, or says it is gone).
          this.held = null;
          this.chosen = slot;
          this.key = newKey();
          this.details();
        } else if (e.status === 409) {
          this.gone.add(slot.id);
          button.closest("li").remove();
          noticeBox.textContent = t.slotGone;
          // The focused button is gone: the focus goes to the message.
          noticeBox.focus();
          this.announce(t.slotGone);
        } else {
          noticeBox.textContent = this.message(e);
          this.announce(noticeBox.textContent);
        }
      } finally {
        this.busy = false;
      }
    }

    async release() {
      const held = this.held;
      this.held = null;
      if (!held) return;
      try {
        await api("DELETE", "/v1/slot-holds/" + held.id, { headers: { "X-Hold-Token": held.hold_token } });
      } catch (e) {
        // It expires by itself.
      }
    }

    slotSummary(slot, typeName) {
      const p = this.providers.get(slot.provider_id);
      const l = this.locations.get(slot.location_id);
      return [fullFmt(this.locale, slot.timezone).format(new Date(slot.start_at)) + ` (${slot.timezone})`,
        typeName, p ? `${this.t.with} ${p.name}` : null, l ? `${this.t.at} ${l.name}` : null].filter(Boolean).join(" · ");
    }

    input(name, label, type, opts = {}) {
      const id = "f-" + name.replace(/\W/g, "-");
      const described = [opts.help ? id + "-help" : null, errId(name)].filter(Boolean).join(" ");
      const attrs = { id, name, type, "aria-describedby": described, autocomplete: opts.autocomplete || "off" };
      if (opts.required) { attrs.required = true; attrs["aria-required"] = "true"; }
      if (opts.maxLength) attrs.maxlength = String(opts.maxLength);
      const control = type === "textarea" ? h("textarea", Object.assign({}, attrs, { type: null })) : h("input", attrs);
      return h("div", { class: "field", dataset: { field: name } },
        h("label", { for: id }, label, opts.required ? h("span", { class: "sr-only" }, ` (${this.t.required})`) : null, opts.required ? " *" : ""),
        opts.help ? h("p", { class: "help", id: id + "-help" }, opts.help) : null,
        control,
        h("p", { class: "error", id: errId(name) }));
    }

    group(name, legend, help, options, type, required) {
      const id = "f-" + name.replace(/\W/g, "-");
      return h("fieldset", { class: "field", dataset: { field: name }, "aria-describedby": [help ? id + "-help" : null, errId(name)].filter(Boolean).join(" ") },
        h("legend", {}, legend, required ? h("span", { class: "sr-only" }, ` (${this.t.required})`) : null, required ? " *" : ""),
        help ? h("p", { class: "help", id: id + "-help" }, help) : null,
        h("div", { class: type === "radio" && options.length > 6 ? "scale" : "" }, options.map((o, i) =>
          h("label", { class: "check", for: `${id}-${i}` }, h("input", { type, name, value: o.value, id: `${id}-${i}` }), o.label))),
        h("p", { class: "error", id: errId(name) }));
    }

    question(q) {
      const t = this.t;
      switch (q.type) {
        case "scale": {
          const opts = [];
          for (let n = q.min; n <= q.max; n++) opts.push({ value: String(n), label: String(n) });
          return this.group(q.field, q.label, q.help, opts, "radio", q.required);
        }
        case "single_choice": return this.group(q.field, q.label, q.help, q.options, "radio", q.required);
        case "multi_choice": return this.group(q.field, q.label, q.help, q.options, "checkbox", q.required);
        case "boolean": return this.group(q.field, q.label, q.help, [{ value: "true", label: t.yes }, { value: "false", label: t.no }], "radio", q.required);
        case "date": return this.input(q.field, q.label, "date", { help: q.help, required: q.required });
        default: return this.input(q.field, q.label, "textarea", { help: q.help, required: q.required, maxLength: q.max_length });
      }
    }

    details() {
      this.step = "details";
      const t = this.t;
      const slot = this.chosen;
      // Without a hold (the day's hold share was reached) nothing keeps the
      // time: the request itself takes it, or says it is gone.
      const expires = this.held ? timeFmt(this.locale, slot.timezone).format(new Date(this.held.expires_at)) : null;
      const late = new Date(slot.start_at).getTime() - Date.now() < this.policy.patient_change_cutoff * 1000;
      this.errorSummary = h("div", { class: "notice warn", role: "alert", tabindex: "-1" });
      const formEl = h("form", { novalidate: true, on: { submit: (ev) => { ev.preventDefault(); this.submit(formEl); } } },
        h("p", { class: "notice" }, h("strong", {}, t.selected + ": "), this.slotSummary(slot, this.type.name)),
        expires ? h("p", { class: "help", "data-held-until": this.held.expires_at }, t.heldUntil(expires)) : null,
        late ? h("p", { class: "notice warn" }, t.lateWarning(durationText(this.locale, this.policy.patient_change_cutoff))) : null,
        this.errorSummary,
        this.patientParts({ note: t.consentNote, sms: t.sms, email: t.emailConsent }),
        h("div", { class: "actions" },
          h("button", { type: "submit" }, t.submit),
          h("button", { type: "button", class: "secondary", on: { click: () => { this.release(); this.chooseSlot(); } } }, t.otherTime)));
      this.wireForm(formEl);
      this.show(t.details, formEl);
    }

    // patientParts are the fieldsets a booking request and a waitlist join
    // share: the patient, the intake questions and the consent (whose
    // contact labels, in words, say what each one sends).
    patientParts(consent) {
      const t = this.t;
      return [
        h("fieldset", {}, h("legend", {}, t.details),
          PATIENT_FIELDS.map(([name, key, type, ac, req]) => this.input(name, t[key], type, { autocomplete: ac, required: req, help: key === "phone" ? t.phoneHelp : "" }))),
        h("fieldset", {}, h("legend", {}, t.intake), this.form.map((q) => this.question(q))),
        h("fieldset", {}, h("legend", {}, t.consent),
          this.check("consent.privacy_policy_accepted", this.privacyLabel(), true),
          h("p", { class: "help", "data-consent-note": "" }, consent.note),
          this.check("consent.contact_by_sms", consent.sms, false),
          this.check("consent.contact_by_email", consent.email, false)),
      ];
    }

    // wireForm makes a form with patientParts behave: conditional
    // questions, exclusive options, the emergency screen.
    wireForm(formEl) {
      // Conditional questions: shown only after the answer they depend on.
      for (const q of this.form.filter((q) => q.show_when)) {
        const wrap = formEl.querySelector(`[data-field="${q.field}"]`);
        const sync = () => {
          const on = formEl.querySelector(`input[name="${q.show_when.field}"]:checked`);
          wrap.hidden = !(on && on.value === String(q.show_when.equals));
        };
        formEl.querySelectorAll(`input[name="${q.show_when.field}"]`).forEach((el) => el.addEventListener("change", sync));
        sync();
      }
      this.wireExclusive(formEl);
      this.wireTriage(formEl);
      this.formEl = formEl;
    }

    // privacyLabel is the privacy consent's label, linking to the clinic's
    // policy (in a new tab, so the form stays filled in) when it has one.
    privacyLabel() {
      const t = this.t;
      const url = this.policy && this.policy.privacy_policy_url;
      if (!url) return t.privacy;
      return h("span", {}, t.privacyBefore,
        h("a", { href: url, target: "_blank", rel: "noopener", "data-privacy-policy": "" }, t.privacyLink), t.privacyAfter);
    }

    check(name, label, required) {
      const id = "f-" + name.replace(/\W/g, "-");
      return h("div", { class: "field", dataset: { field: name } },
        // The label's words and its star in one box: as flex items of their
        // own, the star would sit at the far edge, away from the words.
        h("label", { class: "check", for: id }, h("input", { type: "checkbox", id, name, value: "true", "aria-describedby": errId(name), "aria-required": required ? "true" : false }),
          h("span", {}, label, required ? h("span", { class: "sr-only" }, ` (${this.t.required})`) : null, required ? " *" : "")),
        h("p", { class: "error", id: errId(name) }));
    }

    // body turns the form into the booking request: typed values, optional
    // answers left out when empty, hidden questions never sent.
    body(formEl) {
      return this.answers(formEl, { slot_id: this.chosen.id, hold_token: this.held ? this.held.hold_token : undefined, locale: this.locale });
    }

    // answers adds to out the patient, intake and consent of a form with
    // patientParts, as a booking request and a waitlist join send them.
    answers(formEl, out) {
      const data = new FormData(formEl);
      Object.assign(out, { patient: {}, intake: {}, consent: {} });
      const put = (path, v) => {
        const [group, key] = path.split(".");
        out[group][key] = v;
      };
      for (const [name] of PATIENT_FIELDS) {
        const v = String(data.get(name) || "").trim();
        if (v !== "" || name !== "patient.email") put(name, v);
      }
      for (const q of this.form) {
        const wrap = formEl.querySelector(`[data-field="${q.field}"]`);
        if (wrap && wrap.hidden) continue;
        if (q.type === "multi_choice") { put(q.field, data.getAll(q.field)); continue; }
        const v = data.get(q.field);
        if (v === null || v === "") continue;
        if (q.type === "scale") put(q.field, Number(v));
        else if (q.type === "boolean") put(q.field, v === "true");
        else put(q.field, String(v));
      }
      for (const name of ["consent.privacy_policy_accepted", "consent.contact_by_sms", "consent.contact_by_email"]) {
        put(name, data.get(name) === "true");
      }
      return out;
    }

    clearErrors(formEl) {
      formEl.querySelectorAll(".error").forEach((el) => { el.textContent = ""; });
      formEl.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
      this.errorSummary.textContent = "";
    }

    async submit(formEl) {
      const t = this.t;
      if (this.busy) return; // a double click books once
      this.busy = true;
      const button = formEl.querySelector("button[type=submit]");
      // aria-disabled rather than disabled, which would drop the focus;
      // this.busy is what ignores a second click.
      button.setAttribute("aria-disabled", "true");
      button.textContent = t.submitting;
      this.clearErrors(formEl);
      try {
        const created = await api("POST", "/v1/booking-requests", { body: this.body(formEl), headers: { "Idempotency-Key": this.key } });
        this.held = null;
        this.done(created);
      } catch (e) {
        button.removeAttribute("aria-disabled");
        button.textContent = t.submit;
        if (e.status === 422 && e.code === "triage_emergency") {
          this.held = null; // the server took no place
          this.emergency((e.triage && e.triage.message) || "");
        } else if (e.status === 422 && e.fields.length) {
          this.showFieldErrors(formEl, e.fields);
        } else if (e.code === "patient_limit_reached") {
          // Not the slot's fault: the details stay, with the way to book
          // by phone. The message heads a long form whose button is at its
          // foot: the focus goes to it, so that it is seen, and the next
          // Tab reaches the number.
          this.errorSummary.replaceChildren(this.callClinic(t.patientLimit(e.limit || 3)));
          this.errorSummary.focus();
          this.announce(this.errorSummary.textContent);
        } else if (e.status === 409 || e.status === 404) {
          // The slot or the hold is gone: back to the times, without it.
          this.gone.add(this.chosen.id);
          this.held = null;
          this.chooseSlot(e.code === "hold_expired" ? t.holdExpired : t.slotGone);
        } else {
          this.errorSummary.textContent = this.message(e);
          // At the top of a long form: the focus brings it into view.
          this.errorSummary.focus();
          this.announce(this.errorSummary.textContent);
        }
      } finally {
        this.busy = false;
      }
    }

    // ---------------------------------------------------------------- waitlist

    // waitlistForm asks for the dates and times of day wanted, with the
    // same patient, intake and consent as a booking request; nothing is
    // held meanwhile.
    waitlistForm() {
      this.step = "waitlist";
      const t = this.t;
      this.release();
      this.waitKey = newKey(); // one Idempotency-Key per form: retries reuse it
      const today = localDate(new Date());
      const later = localDate(new Date(Date.now() + 14 * 86400000));
      this.errorSummary = h("div", { class: "notice warn", role: "alert", tabindex: "-1" });
      const dateInput = (name, label, value) => {
        const field = this.input(name, label, "date", { required: true });
        const el = field.querySelector("input");
        el.value = value;
        el.min = today;
        return field;
      };
      const times = this.group("times_of_day", t.waitTimes, "",
        ["any", "morning", "afternoon"].map((v) => ({ value: v, label: t.waitTimeOptions[v] })), "radio", false);
      times.querySelector('input[value="any"]').checked = true;
      const formEl = h("form", { novalidate: true, "data-form": "waitlist", on: { submit: (ev) => { ev.preventDefault(); this.waitSubmit(formEl); } } },
        h("p", {}, t.waitJoinIntro),
        h("p", { class: "notice" }, h("strong", {}, t.what + ": "), this.type.name),
        this.errorSummary,
        h("fieldset", {}, h("legend", {}, t.waitWhen),
          dateInput("earliest_date", t.waitEarliest, today),
          dateInput("latest_date", t.waitLatest, later),
          times),
        this.patientParts({ note: t.waitConsentNote, sms: t.waitSms, email: t.waitEmail }),
        h("div", { class: "actions" },
          h("button", { type: "submit" }, t.waitSubmit),
          h("button", { type: "button", class: "secondary", on: { click: () => this.chooseSlot() } }, t.waitBackToTimes)));
      this.wireForm(formEl);
      this.show(t.waitJoin, formEl);
    }

    async waitSubmit(formEl) {
      const t = this.t;
      if (this.busy) return; // a double click joins once
      this.busy = true;
      const button = formEl.querySelector("button[type=submit]");
      button.setAttribute("aria-disabled", "true");
      button.textContent = t.waitSubmitting;
      this.clearErrors(formEl);
      const data = new FormData(formEl);
      const when = data.get("times_of_day");
      const body = this.answers(formEl, {
        consultation_type_id: this.type.id, locale: this.locale,
        earliest_date: String(data.get("earliest_date") || ""), latest_date: String(data.get("latest_date") || ""),
        times_of_day: when && when !== "any" ? [when] : undefined,
      });
      try {
        const joined = await api("POST", "/v1/waitlist", { body, headers: { "Idempotency-Key": this.waitKey } });
        this.waitDone(joined);
      } catch (e) {
        button.removeAttribute("aria-disabled");
        button.textContent = t.waitSubmit;
        if (e.status === 422 && e.code === "triage_emergency") {
          this.emergency((e.triage && e.triage.message) || "");
        } else if (e.status === 422 && e.fields.length) {
          this.showFieldErrors(formEl, e.fields);
        } else {
          this.errorSummary.replaceChildren(e.code === "patient_limit_reached" ? this.callClinic(t.patientLimit(e.limit || 3)) : this.message(e));
          this.errorSummary.focus();
          this.announce(this.errorSummary.textContent);
        }
      } finally {
        this.busy = false;
      }
    }

    // waitDone shows the entry joined: its reference and the link to its
    // page; or, for a patient already waiting with these details, that the
    // link went again to their own email or phone (the answer carries no
    // token: whoever repeats a patient's details cannot manage the entry).
    waitDone(j) {
      this.step = "waitlist-done";
      const t = this.t;
      const ref = [h("p", {}, t.reference + ":"), h("p", { class: "reference", "data-waitlist-reference": j.reference }, j.reference)];
      if (j.existing) {
        this.show(t.waitAlready,
          h("p", { class: "notice", "data-existing": j.link_resent ? "resent" : "recent" }, j.link_resent ? t.waitAlreadyResent : t.waitAlreadyRecent),
          ref);
      } else {
        const page = `${API}/waitlist${this.locale === "en" ? "" : "?locale=" + this.locale}#reference=${encodeURIComponent(j.reference)}&token=${encodeURIComponent(j.manage_token)}`;
        this.show(t.waitJoined,
          h("p", { class: "notice", "data-joined": "" }, t.waitJoinedNote),
          ref,
          h("p", {}, t.waitKeep),
          h("dl", {}, h("dt", {}, t.waitDates), h("dd", {}, dateRange(this.locale, j.earliest_date, j.latest_date))),
          h("div", { class: "actions" }, h("a", { class: "button", href: page, target: "_blank", rel: "noopener" }, t.waitPageLink)));
      }
      this.announce(j.existing ? t.waitAlready : t.waitJoined);
      this.dispatchEvent(new CustomEvent("clinic-waitlisted", { detail: { reference: j.reference, existing: !!j.existing }, bubbles: true, composed: true }));
    }

    // ---------------------------------------------------------------- triage

    // wireExclusive makes a multi_choice question's exclusive option
    // ("None of these") clear the others, and any other clear it.
    wireExclusive(formEl) {
      for (const q of this.form.filter((q) => q.exclusive_option)) {
        const boxes = [...formEl.querySelectorAll(`input[name="${q.field}"]`)];
        for (const box of boxes) {
          box.addEventListener("change", () => {
            if (!box.checked) return;
            for (const other of boxes) {
              if (other !== box && (box.value === q.exclusive_option || other.value === q.exclusive_option)) other.checked = false;
            }
          });
        }
      }
    }

    // triageOutcome applies the form's triage rules (the server's own, as
    // data) to the answers in the form: the emergency rules that fire.
    triageOutcome(formEl) {
      const data = new FormData(formEl);
      return this.triageRules.filter((r) => r.outcome === "emergency" &&
        data.getAll(r.when.field).some((v) => r.when.any_of.includes(v)));
    }

    // wireTriage stops the booking as soon as an answer is an emergency:
    // such a patient must not be offered an appointment weeks away.
    wireTriage(formEl) {
      const fields = new Set(this.triageRules.map((r) => r.when.field));
      for (const field of fields) {
        formEl.querySelectorAll(`input[name="${field}"]`).forEach((el) => el.addEventListener("change", () => {
          const fired = this.triageOutcome(formEl);
          if (fired.length) {
            this.emergency(fired.map((r) => r.message).join("\n\n"));
            // Nothing was sent: count the screen for the clinic, anonymously
            // (the server counts the requests it refuses itself).
            api("POST", "/v1/intake-form/emergency-screens").catch(() => {});
          }
        }));
      }
    }

    // emergency replaces the form with what to do now: the clinic's words
    // for the rules that fired, the emergency services and the clinic's
    // phone. The held time is given back and nothing is sent.
    emergency(message) {
      this.step = "emergency";
      const t = this.t;
      this.release();
      const saved = this.formEl;
      const phone = this.clinicPhone;
      this.show(t.emergencyTitle,
        h("div", { class: "notice warn", role: "alert", "data-triage": "emergency" },
          message.split("\n\n").filter(Boolean).map((m) => h("p", {}, m)),
          h("p", {}, h("strong", {}, t.emergencyCall)),
          phone ? h("p", {}, t.emergencyClinic + " ", h("a", { href: "tel:" + phone, "data-clinic-phone": phone }, phone)) : null),
        h("p", { class: "help" }, t.emergencyNotDiagnosis),
        h("p", { class: "help" }, t.emergencyNothingBooked),
        h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", on: { click: () => {
          if (saved) saved.querySelectorAll("input[type=checkbox]:checked").forEach((el) => {
            if (this.triageRules.some((r) => r.when.field === el.name)) el.checked = false;
          });
          this.chooseSlot();
        } } }, t.emergencyBack)));
      this.announce(t.emergencyTitle);
      this.dispatchEvent(new CustomEvent("clinic-emergency", { bubbles: true, composed: true }));
    }

    showFieldErrors(formEl, fields) {
      let first = null;
      const general = [];
      for (const f of fields) {
        const name = fieldKey(f.field);
        const box = formEl.querySelector(`[data-field="${name}"]`);
        const err = box && box.querySelector(".error");
        const text = fieldMessage(this.locale, f);
        if (!err) { general.push(text); continue; }
        err.textContent = err.textContent ? err.textContent + " " + text : text;
        box.querySelectorAll("input, textarea").forEach((el) => el.setAttribute("aria-invalid", "true"));
        if (!first) first = box.querySelector("input, textarea");
      }
      this.errorSummary.textContent = [this.t.fixErrors(fields.length), ...general].join(" ");
      if (first) first.focus();
    }

    done(b) {
      this.step = "done";
      const t = this.t;
      const zone = b.timezone || this.chosen.timezone;
      const manage = `${API}/manage${this.locale === "en" ? "" : "?locale=" + this.locale}#reference=${encodeURIComponent(b.reference)}&token=${encodeURIComponent(b.manage_token)}`;
      const until = b.changeable_until ? fullFmt(this.locale, zone).format(new Date(b.changeable_until)) : null;
      const calNote = h("p", { class: "help", role: "status" });
      this.show(b.status === "pending" ? t.requested : t.booked,
        h("p", {}, b.status === "pending" ? t.pendingNote : t.confirmedNote),
        h("p", {}, t.reference + ":"),
        h("p", { class: "reference", "data-reference": b.reference }, b.reference),
        h("p", {}, t.keepReference),
        h("dl", {},
          h("dt", {}, t.when), h("dd", {}, fullFmt(this.locale, zone).format(new Date(b.slot.start_at)) + ` (${zone})`),
          h("dt", {}, t.what), h("dd", {}, this.type ? this.type.name : b.consultation_type_name),
          h("dt", {}, t.withWhom), h("dd", {}, b.provider_name),
          h("dt", {}, t.where), h("dd", {}, [this.locationName(b), b.location_address].filter(Boolean).join(", "))),
        h("p", { class: "notice" + (until ? "" : " warn"), "data-changeable-until": b.changeable_until || "" }, until ? t.changesUntil(until) : this.callClinic(t.noOnlineChanges)),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "secondary", on: { click: () => downloadCalendar(b.reference, b.manage_token, calNote, t) } }, t.addToCalendar),
          h("a", { class: "button", href: manage, target: "_blank", rel: "noopener" }, t.manageLink)),
        calNote);
      this.dispatchEvent(new CustomEvent("clinic-booked", { detail: { reference: b.reference }, bubbles: true, composed: true }));
    }

    // phone is the chosen time's location's number, else the clinic's.
    phone() {
      const l = this.chosen && this.locations && this.locations.get(this.chosen.location_id);
      return (l && l.phone) || super.phone();
    }

    // locationName is the booking's location in the widget's language.
    locationName(b) {
      const l = this.locations && this.locations.get(b.slot.location_id);
      return l ? l.name : b.location_name;
    }

    disconnectedCallback() {
      this.release();
    }
  }

  // downloadCalendar fetches the booking's .ics with its token (a header, so
  // not a plain link) and hands it to the browser as a download.
  async function downloadCalendar(reference, token, note, t) {
    note.textContent = "";
    try {
      const res = await api("GET", `/v1/booking-requests/${encodeURIComponent(reference)}/calendar.ics`, { headers: { "X-Booking-Token": token, Accept: "text/calendar" }, raw: true });
      const url = URL.createObjectURL(await res.blob());
      const a = h("a", { href: url, download: `appointment-${reference}.ics` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      note.textContent = e instanceof ApiError && e.status === 0 ? t.offline : t.calendarMissing;
    }
  }

  // ------------------------------------------------------------------ <clinic-manage>

  class ClinicManage extends Base {
    start() {
      const params = new URLSearchParams((location.hash || "").replace(/^#/, ""));
      this.reference = params.get("reference") || "";
      this.token = params.get("token") || "";
      if (!this.reference || !this.token) {
        this.step = "error";
        this.show(this.t.manageTitle, h("p", { class: "notice warn", role: "alert" }, this.t.missingLink));
        return;
      }
      this.load();
    }

    headers() { return { "X-Booking-Token": this.token }; }

    // speak switches to the language the booking was made in.
    speak(locale) { this.speakAs(locale, "manageTitle"); }

    async load(notice) {
      this.step = "loading";
      const t = this.t;
      try {
        const [b, policy] = await Promise.all([
          api("GET", "/v1/booking-requests/" + encodeURIComponent(this.reference), { headers: this.headers() }),
          this.policy ? null : api("GET", "/v1/booking-policy"),
        ]);
        if (policy) this.policy = policy;
        this.booking = b;
        this.speak(b.locale);
        this.view_(notice);
      } catch (e) {
        this.step = "error";
        this.show(t.manageTitle, h("p", { class: "notice warn", role: "alert" }, e.status === 404 ? t.notFound : this.message(e)));
      }
    }

    view_(notice) {
      this.step = "booking";
      const t = this.t;
      const b = this.booking;
      const zone = b.timezone;
      const open = !!b.changeable_until && (b.status === "pending" || b.status === "confirmed");
      const until = b.changeable_until ? fullFmt(this.locale, zone).format(new Date(b.changeable_until)) : null;
      const calNote = h("p", { class: "help", role: "status" });
      this.show(t.manageTitle,
        notice ? h("p", { class: "notice", role: "status" }, notice) : null,
        h("p", {}, t.reference + ": ", h("span", { class: "reference", "data-reference": b.reference }, b.reference)),
        h("dl", {},
          h("dt", {}, t.status), h("dd", { "data-status": b.status }, t.statuses[b.status] || b.status),
          h("dt", {}, t.when), h("dd", { "data-start": b.slot.start_at }, fullFmt(this.locale, zone).format(new Date(b.slot.start_at)) + ` (${zone})`),
          h("dt", {}, t.what), h("dd", {}, b.consultation_type_name),
          h("dt", {}, t.withWhom), h("dd", {}, b.provider_name),
          h("dt", {}, t.where), h("dd", {}, [b.location_name, b.location_address].filter(Boolean).join(", "))),
        (b.status === "pending" || b.status === "confirmed")
          ? h("p", { class: "notice" + (open ? "" : " warn"), "data-changeable-until": b.changeable_until || "" }, open ? t.changesUntil(until) : this.callClinic(t.noOnlineChanges))
          : null,
        h("div", { class: "actions" },
          open ? h("button", { type: "button", on: { click: () => this.reschedule() } }, t.reschedule) : null,
          open ? h("button", { type: "button", class: "secondary", on: { click: () => this.confirmCancel() } }, t.cancel) : null,
          h("button", { type: "button", class: "secondary", on: { click: () => downloadCalendar(b.reference, this.token, calNote, t) } }, t.addToCalendar)),
        calNote);
      if (notice) this.announce(notice);
    }

    confirmCancel() {
      this.step = "cancel";
      const t = this.t;
      const err = h("p", { class: "notice warn", role: "alert" });
      this.show(t.cancelConfirm,
        h("p", {}, this.booking.reference),
        err,
        h("div", { class: "actions" },
          h("button", { type: "button", on: { click: (ev) => this.act(ev.currentTarget, "cancel", {}, t.cancelled, err) } }, t.cancelYes),
          h("button", { type: "button", class: "secondary", on: { click: () => this.view_() } }, t.cancelNo)));
    }

    async act(button, action, body, done, err) {
      if (this.busy) return;
      this.busy = true;
      button.setAttribute("aria-disabled", "true");
      try {
        this.booking = await api("POST", `/v1/booking-requests/${encodeURIComponent(this.reference)}/${action}`, { body, headers: this.headers() });
        this.view_(done);
      } catch (e) {
        button.removeAttribute("aria-disabled");
        if (e.code === "change_window_closed") err.replaceChildren(this.callClinic(this.t.windowClosed));
        else if (e.code === "slot_unavailable") {
          err.textContent = this.t.slotGone;
          const li = button.closest("li");
          if (li) {
            li.remove();
            err.focus();
          }
        } else err.textContent = this.message(e);
        this.announce(err.textContent);
      } finally {
        this.busy = false;
      }
    }

    async reschedule() {
      this.step = "reschedule";
      const t = this.t;
      const b = this.booking;
      this.show(t.rescheduleTitle, h("p", {}, t.loading));
      let slots;
      try {
        const r = await api("GET", `/v1/availability/next?consultation_type_id=${b.slot.consultation_type_id}&provider_id=${b.slot.provider_id}&limit=50&locale=${this.locale}`);
        slots = r.slots.filter((s) => s.id !== b.slot.id);
      } catch (e) {
        this.show(t.rescheduleTitle, h("p", { class: "notice warn", role: "alert" }, this.message(e)));
        return;
      }
      this.slots = slots;
      this.pickNewTime();
    }

    // pickNewTime offers the free times; a time inside the online change
    // cutoff is marked (once moved there, it cannot be changed online).
    pickNewTime(notice) {
      this.step = "reschedule";
      const t = this.t;
      const err = h("p", { class: "notice warn", role: "alert", tabindex: "-1" }, notice || "");
      const cutoff = this.policy ? this.policy.patient_change_cutoff : undefined;
      this.show(t.rescheduleTitle, err,
        ...(this.slots.length ? this.slotButtons(this.slots, (s) => this.confirmMove(s), cutoff) : [h("p", {}, this.callClinic(t.noSlots))]),
        h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", on: { click: () => this.view_() } }, t.back)));
      if (notice) this.announce(notice);
    }

    // confirmMove shows the old time and the new one; nothing moves until
    // the patient confirms.
    confirmMove(slot) {
      this.step = "confirm-reschedule";
      const t = this.t;
      const b = this.booking;
      const when = (start, zone) => fullFmt(this.locale, zone).format(new Date(start)) + ` (${zone})`;
      const late = this.policy && new Date(slot.start_at).getTime() - Date.now() < this.policy.patient_change_cutoff * 1000;
      const err = h("p", { class: "notice warn", role: "alert", tabindex: "-1" });
      this.show(t.confirmMoveTitle,
        h("dl", {},
          h("dt", {}, t.from), h("dd", { "data-old-start": b.slot.start_at }, when(b.slot.start_at, b.timezone)),
          h("dt", {}, t.to), h("dd", { "data-new-start": slot.start_at }, when(slot.start_at, slot.timezone))),
        late ? h("p", { class: "notice warn" }, t.lateMove(durationText(this.locale, this.policy.patient_change_cutoff))) : null,
        err,
        h("div", { class: "actions" },
          h("button", { type: "button", dataset: { action: "confirm-reschedule" }, on: { click: (ev) => this.move(ev.currentTarget, slot, err) } }, t.confirmMove),
          h("button", { type: "button", class: "secondary", on: { click: () => this.pickNewTime() } }, t.otherNewTime)));
    }

    async move(button, slot, err) {
      if (this.busy) return;
      this.busy = true;
      button.setAttribute("aria-disabled", "true");
      try {
        this.booking = await api("POST", `/v1/booking-requests/${encodeURIComponent(this.reference)}/reschedule`, { body: { slot_id: slot.id }, headers: this.headers() });
        this.view_(this.t.rescheduled);
      } catch (e) {
        button.removeAttribute("aria-disabled");
        if (e.code === "slot_unavailable") {
          // Taken meanwhile: back to the times, without it.
          this.slots = this.slots.filter((s) => s.id !== slot.id);
          this.busy = false;
          this.pickNewTime(this.t.slotGone);
          return;
        }
        if (e.code === "change_window_closed") err.replaceChildren(this.callClinic(this.t.windowClosed));
        else err.textContent = this.message(e);
        this.announce(err.textContent);
      } finally {
        this.busy = false;
      }
    }
  }

  // ------------------------------------------------------------------ <clinic-waitlist>

  // ClinicWaitlist is the page an offer's email or text links to:
  // /waitlist#reference=...&token=... (the fragment never reaches a server).
  class ClinicWaitlist extends Base {
    start() {
      const params = new URLSearchParams((location.hash || "").replace(/^#/, ""));
      this.reference = params.get("reference") || "";
      this.token = params.get("token") || "";
      if (!this.reference || !this.token) {
        this.step = "error";
        this.show(this.t.waitTitle, h("p", { class: "notice warn", role: "alert" }, this.t.waitMissingLink));
        return;
      }
      this.waitLoad();
    }

    path(action) {
      return "/v1/waitlist/" + encodeURIComponent(this.reference) + (action ? "/" + action : "");
    }

    async waitLoad(notice, warn) {
      this.step = "loading";
      const t = this.t;
      // The policy gives the clinic's number, shown with every error.
      const policy = this.policy ? Promise.resolve(this.policy) : api("GET", "/v1/booking-policy").catch(() => null);
      try {
        const [entry, p] = await Promise.all([api("GET", this.path(), { headers: { "X-Waitlist-Token": this.token } }), policy]);
        if (p) this.policy = p;
        this.entry = entry;
        // The page speaks the entry's language, as its messages do.
        this.speakAs(entry.locale, "waitTitle");
        this.waitView(notice, warn);
      } catch (e) {
        this.policy = (await policy) || this.policy;
        this.step = "error";
        this.show(t.waitTitle, h("p", { class: "notice warn", role: "alert", "data-error": e.status || 0 },
          e.status === 404 ? this.callClinic(t.waitNotFound) : this.message(e)));
      }
    }

    waitView(notice, warn) {
      this.step = "entry";
      const t = this.t;
      const e = this.entry;
      const o = e.status === "offered" ? e.offer : null;
      const zone = (o && o.timezone) || undefined;
      const when = (at) => fullFmt(this.locale, zone).format(new Date(at)) + (zone ? ` (${zone})` : "");
      const err = h("p", { class: "notice warn", role: "alert", tabindex: "-1" });
      const live = e.status === "waiting" || e.status === "offered";
      this.show(t.waitTitle,
        notice ? h("p", { class: "notice" + (warn ? " warn" : ""), role: warn ? "alert" : "status", "data-notice": warn ? "warn" : "ok" }, notice) : null,
        h("p", {}, t.reference + ": ", h("span", { class: "reference", "data-reference": e.reference }, e.reference)),
        h("dl", {},
          h("dt", {}, t.status), h("dd", { "data-status": e.status }, t.waitStatuses[e.status] || e.status),
          h("dt", {}, t.waitDates), h("dd", {}, dateRange(this.locale, e.earliest_date, e.latest_date)),
          o ? [h("dt", {}, t.offeredTime), h("dd", { "data-offer-start": o.start_at }, when(o.start_at))] : null),
        o ? h("p", { class: "notice", "data-offer-expires": o.expires_at }, t.offerUntil(when(o.expires_at))) : null,
        err,
        live ? h("div", { class: "actions" },
          o ? h("button", { type: "button", dataset: { action: "accept" }, on: { click: (ev) => this.accept(ev.currentTarget, err) } }, t.acceptOffer) : null,
          o ? h("button", { type: "button", class: "secondary", dataset: { action: "decline" }, on: { click: (ev) => this.decline(ev.currentTarget, err) } }, t.declineOffer) : null,
          h("button", { type: "button", class: "secondary", dataset: { action: "leave" }, on: { click: () => this.confirmLeave() } }, t.leaveWaitlist)) : null);
      if (notice) this.announce(notice);
    }

    // busyDo runs one request at a time from a button, and tells the
    // patient what failed in err.
    async busyDo(button, err, fn) {
      if (this.busy) return;
      this.busy = true;
      button.setAttribute("aria-busy", "true");
      try {
        await fn();
      } catch (e) {
        button.removeAttribute("aria-busy");
        this.busy = false;
        // The offer ended meanwhile: the entry is waiting again; show it so.
        if (e.code === "offer_expired" || e.code === "no_offer") {
          this.waitLoad(e.code === "offer_expired" ? this.t.offerExpired : this.t.offerGone, true);
          return;
        }
        if (e.code === "patient_limit_reached") err.replaceChildren(this.callClinic(this.t.patientLimit(e.limit || 3)));
        else if (e.status === 404) err.replaceChildren(this.callClinic(this.t.waitNotFound));
        else err.textContent = this.message(e);
        this.announce(err.textContent);
        err.focus();
      } finally {
        this.busy = false;
      }
    }

    accept(button, err) {
      return this.busyDo(button, err, async () => {
        const b = await api("POST", this.path("accept"), { headers: { "X-Waitlist-Token": this.token } });
        this.waitBooked(b);
      });
    }

    decline(button, err) {
      return this.busyDo(button, err, async () => {
        this.entry = await api("POST", this.path("decline"), { headers: { "X-Waitlist-Token": this.token } });
        this.waitView(this.t.declinedNote);
      });
    }

    confirmLeave() {
      this.step = "leave";
      const t = this.t;
      const err = h("p", { class: "notice warn", role: "alert", tabindex: "-1" });
      this.show(t.leaveConfirm,
        h("p", {}, t.leaveNote),
        err,
        h("div", { class: "actions" },
          h("button", { type: "button", dataset: { action: "leave-confirm" }, on: { click: (ev) => this.leave(ev.currentTarget, err) } }, t.leaveYes),
          h("button", { type: "button", class: "secondary", on: { click: () => this.waitView() } }, t.leaveNo)));
    }

    leave(button, err) {
      return this.busyDo(button, err, async () => {
        this.entry = await api("DELETE", this.path(), { headers: { "X-Waitlist-Token": this.token } });
        this.waitView(this.t.leftNote);
      });
    }

    // waitBooked shows the booking the offer became; its manage token is
    // not shown here: its own manage link comes by email.
    waitBooked(b) {
      this.step = "booked";
      const t = this.t;
      this.booking = b;
      const zone = b.timezone;
      this.show(b.status === "pending" ? t.requested : t.booked,
        h("p", {}, b.status === "pending" ? t.pendingNote : t.confirmedNote),
        h("p", {}, t.reference + ": ", h("span", { class: "reference", "data-booking-reference": b.reference }, b.reference)),
        h("dl", {},
          h("dt", {}, t.when), h("dd", { "data-start": b.slot.start_at }, fullFmt(this.locale, zone).format(new Date(b.slot.start_at)) + ` (${zone})`),
          h("dt", {}, t.what), h("dd", {}, b.consultation_type_name),
          h("dt", {}, t.withWhom), h("dd", {}, b.provider_name),
          h("dt", {}, t.where), h("dd", {}, [b.location_name, b.location_address].filter(Boolean).join(", "))),
        h("p", { class: "notice" }, t.waitBookedEmail));
      this.announce(b.reference);
    }
  }

  // localDate is d's date in the browser's zone, as an input of type date
  // takes it (YYYY-MM-DD).
  function localDate(d) {
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  }

  // dateRange shows two ISO dates (calendar days, no zone) in the locale.
  function dateRange(locale, from, to) {
    const f = fmt(locale, "UTC", { day: "numeric", month: "long", year: "numeric" });
    const a = f.format(new Date(from + "T00:00:00Z"));
    const b = f.format(new Date(to + "T00:00:00Z"));
    return a === b ? a : `${a} – ${b}`;
  }

  if (!customElements.get("clinic-booking")) customElements.define("clinic-booking", ClinicBooking);
  if (!customElements.get("clinic-manage")) customElements.define("clinic-manage", ClinicManage);
  if (!customElements.get("clinic-waitlist")) customElements.define("clinic-waitlist", ClinicWaitlist);
})();
