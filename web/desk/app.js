// The reception desk: a single-page staff console over the public API.
// Plain JavaScript with no build step and no third-party code; it builds
// its DOM with createElement and textContent only, so it runs under the page's
// strict Content-Security-Policy. The access token lives in this closure
// only; the refresh token is an HttpOnly cookie the script never sees.
// @ts-check
// CI type-checks this file against openapi.yaml: the JSDoc types (S is the
// API's schemas) are in docs/typescript-client/desk.d.ts.
"use strict";
(() => {
  const TEXT = {
    en: {
      title: "Reception desk", skip: "Skip to content", screens: "Screens", search: "Search", signOut: "Sign out",
      searchHint: "Name, phone, reference or date of birth",
      language: "Language", loading: "Loading…", signInTitle: "Sign in", email: "Email", password: "Password",
      signIn: "Sign in", signInFailed: "Wrong email or password.", today: "Today", requests: "Requests", find: "Find",
      requestsTitle: "Requests to answer", requestsHelp: "Pending requests, urgent first, then oldest first.",
      patients: "Patients", bookings: "Bookings", born: "born", theirBookings: "Their bookings", todayTitle: "Today", export: "Day sheet (CSV)", exported: "The day sheet is downloaded.", location: "Location", date: "Date", findTitle: "Find",
      findHelp: "Type a reference, a name, phone digits or an email.", noRequests: "No requests waiting.",
      noBookings: "No bookings.", noResults: "Nothing found.", urgent: "Urgent",
      reasonDecline: "Reason (the patient may be told)", reasonRevert: "Why undo it", reasonCancel: "Reason (optional)",
      send: "Send", close: "Close", signedOut: "You are signed out.", sessionEnded: "Your session ended. Sign in again to carry on where you were.", offline: "The server could not be reached. Try again.",
      done: "Done: {ref} is now {status}.", live: "Live", reconnecting: "Reconnecting…", triageNote: "Triage guidance, not a diagnosis",
      actions: { confirm: "Confirm", decline: "Decline", "check-in": "Check in", complete: "Complete", "no-show": "No-show", revert: "Revert", cancel: "Cancel", reschedule: "Reschedule" },
      book: "Book a caller", bookTitle: "Book a caller", consultationType: "Consultation type", anyLocation: "Any location",
      freeTimes: "Next free times", noSlots: "No free times.", caller: "The caller", firstName: "First name", lastName: "Last name",
      startedAgo: "started {n} min ago", startingNow: "starting now", withinNotice: "within notice", beyondAdvance: "beyond online booking", deskOnly: "Only the desk can book this time: the website does not offer it.",
      dob: "Date of birth", phone: "Phone", phoneHint: "With the country code, such as +1 424 555 0123.", emailOpt: "Email (optional)", intake: "Intake questions (only the red-flag question is required)",
      newTime: "Move to", consent: "Consent", givenByPhone: "The caller agreed to the privacy policy on the phone", bySMS: "Text messages (SMS) about the booking",
      byEmail: "Email reminders", callerLang: "The caller's language (their messages)", bookIt: "Book", booked: "Booked: {ref}.", match: "On file: {name}, born {dob}, {visits}.", visits: "{n} earlier visits", oneVisit: "1 earlier visit", lastVisit: ", the last on {date}",
      useMatch: "Use these details", chooseTime: "Choose a time.", yes: "Yes", no: "No", fixFields: "Check the marked fields.",
      patientTitle: "Patient record", openRecord: "Open the record", messages: "Messages", messagesTitle: "Failed messages",
      messagesHelp: "Emails and text messages that could not be delivered, newest first.", noMessages: "No messages.", noFailed: "No failed messages.",
      retry: "Retry", retried: "{what} to {name} is queued again.", channel: { email: "Email", sms: "Text message" }, lastError: "Last error",
      msgStatus: { scheduled: "Scheduled", pending: "Sending", sent: "Sent", failed: "Failed", skipped: "Skipped" }, about: "About",
      details: "Details", appointment: "appointment {when}", phoneLabel: "Phone", emailLabel: "Email", bornLabel: "Born", attempts: "{n} attempts", sentAt: "Created {when}",
      waitlist: "Waitlist", waitlistTitle: "Waitlist", waitlistHelp: "Patients waiting for a place, urgent first, then oldest first.",
      noEntries: "No entries.", anyStatus: "Any status", anyType: "Any type", statusLabel: "Status", remove: "Remove", removeConfirm: "Remove from the waitlist",
      removed: "{ref} is off the waitlist.", offer: "Offer a time", offered: "A place is offered to {ref}.", dates: "Between {from} and {to}",
      offerUntil: "Offered: {when}, held until {until}", times: { morning: "Mornings", afternoon: "Afternoons", any: "Any time" },
      wlStatus: { waiting: "Waiting", offered: "Offered", booked: "Booked", lapsed: "Lapsed", left: "Left" }, source: { web: "Website", phone: "Phone" },
      provider: "Provider", anyProvider: "Any provider", view: "View", viewList: "List", viewHours: "By hour", due: "Due", arrived: "Arrived",
      late: "Running late", nobody: "Nobody.",
      keysTitle: "Keyboard shortcuts", keysAnywhere: "Anywhere", keysOnRow: "On a booking, message or waitlist entry (the row or one of its buttons focused)",
      keysNotHere: "That shortcut has no action on this row.", keysPressEnter: "{action}: press Enter to do it, Tab to leave it.",
      keys: [["/", "Search (put the cursor in the search box)"], ["?", "This list of shortcuts"], ["g t", "Go to Today"], ["g r", "Go to Requests"], ["g b", "Go to Book a caller"],
        ["g f", "Go to Find"], ["g m", "Go to Messages"], ["g w", "Go to Waitlist"], ["Esc", "Close a form, or this list"]],
      rowKeys: [["↓|j", "Next row (from the search box or a screen's title: the first one)"], ["↑|k", "Previous row"], ["p", "Open the patient's record"], ["c", "Confirm a request"], ["i", "Check in"],
        ["r", "Reschedule (choose the time), or retry a failed message"], ["d", "Decline (asks the reason)"], ["x", "Cancel, or remove from the waitlist (asks first)"], ["u", "Revert (asks why)"],
        ["o", "Offer a waitlist entry a time (choose it)"], ["e", "Complete: to its button, then Enter"], ["n", "No-show: to its button, then Enter"], ["Enter", "Press the focused button"]],
      template: { received: "Request received", confirmed: "Booking confirmed", declined: "Request declined", cancelled: "Booking cancelled", rescheduled: "Booking moved", expired: "Request expired", reminder: "Reminder" },
      status: { pending: "Pending", confirmed: "Confirmed", declined: "Declined", expired: "Expired", cancelled: "Cancelled", checked_in: "Checked in", completed: "Completed", no_show: "No-show" },
    },
    es: {
      title: "Recepción", skip: "Ir al contenido", screens: "Pantallas", search: "Buscar", signOut: "Cerrar sesión",
      searchHint: "Nombre, teléfono, referencia o fecha de nacimiento",
      language: "Idioma", loading: "Cargando…", signInTitle: "Iniciar sesión", email: "Correo electrónico", password: "Contraseña",
      signIn: "Entrar", signInFailed: "Correo o contraseña incorrectos.", today: "Hoy", requests: "Solicitudes", find: "Buscar",
      requestsTitle: "Solicitudes por responder", requestsHelp: "Solicitudes pendientes, urgentes primero, luego las más antiguas.",
      patients: "Pacientes", bookings: "Citas", born: "nacido/a el", theirBookings: "Sus citas", todayTitle: "Hoy", export: "Hoja del día (CSV)", exported: "La hoja del día se ha descargado.", location: "Sede", date: "Fecha", findTitle: "Buscar",
      findHelp: "Escriba una referencia, un nombre, los dígitos del teléfono o un correo.", noRequests: "No hay solicitudes pendientes.",
      noBookings: "No hay citas.", noResults: "Sin resultados.", urgent: "Urgente",
      reasonDecline: "Motivo (se le puede comunicar al paciente)", reasonRevert: "Por qué se deshace", reasonCancel: "Motivo (opcional)",
      send: "Enviar", close: "Cerrar", signedOut: "Ha cerrado la sesión.", sessionEnded: "Su sesión ha terminado. Vuelva a entrar para seguir donde estaba.", offline: "No se pudo contactar con el servidor. Inténtelo de nuevo.",
      done: "Hecho: {ref} ahora está {status}.", live: "En directo", reconnecting: "Reconectando…", triageNote: "Orientación de triaje, no un diagnóstico",
      actions: { confirm: "Confirmar", decline: "Rechazar", "check-in": "Registrar llegada", complete: "Completar", "no-show": "No se presentó", revert: "Deshacer", cancel: "Cancelar", reschedule: "Cambiar la hora" },
      book: "Reservar por teléfono", bookTitle: "Reservar por teléfono", consultationType: "Tipo de consulta", anyLocation: "Cualquier sede",
      freeTimes: "Próximas horas libres", noSlots: "No hay horas libres.", caller: "Quien llama", firstName: "Nombre", lastName: "Apellidos",
      startedAgo: "empezó hace {n} min", startingNow: "empieza ahora", withinNotice: "dentro del preaviso", beyondAdvance: "más allá de la reserva en línea", deskOnly: "Solo la recepción puede reservar esta hora: la web no la ofrece.",
      dob: "Fecha de nacimiento", phone: "Teléfono", phoneHint: "Con el prefijo del país, por ejemplo +34 612 345 678.", emailOpt: "Correo electrónico (opcional)", intake: "Preguntas de admisión (solo la de señales de alarma es obligatoria)",
      newTime: "Mover a", consent: "Consentimiento", givenByPhone: "Quien llama aceptó la política de privacidad por teléfono", bySMS: "Mensajes de texto (SMS) sobre la cita",
      byEmail: "Recordatorios por correo", callerLang: "Idioma de quien llama (sus mensajes)", bookIt: "Reservar", booked: "Reservada: {ref}.", match: "En el registro: {name}, nacido/a el {dob}, {visits}.", visits: "{n} visitas anteriores", oneVisit: "1 visita anterior", lastVisit: ", la última el {date}",
      useMatch: "Usar estos datos", chooseTime: "Elija una hora.", yes: "Sí", no: "No", fixFields: "Revise los campos marcados.",
      patientTitle: "Ficha del paciente", openRecord: "Abrir la ficha", messages: "Mensajes", messagesTitle: "Mensajes fallidos",
      messagesHelp: "Correos y mensajes de texto que no se pudieron entregar, los más recientes primero.", noMessages: "No hay mensajes.", noFailed: "No hay mensajes fallidos.",
      retry: "Reintentar", retried: "{what} para {name} vuelve a la cola.", channel: { email: "Correo", sms: "Mensaje de texto" }, lastError: "Último error",
      msgStatus: { scheduled: "Programado", pending: "Enviándose", sent: "Enviado", failed: "Fallido", skipped: "Omitido" }, about: "Sobre",
      details: "Datos", appointment: "cita el {when}", phoneLabel: "Teléfono", emailLabel: "Correo", bornLabel: "Nacimiento", attempts: "{n} intentos", sentAt: "Creado {when}",
      waitlist: "Lista de espera", waitlistTitle: "Lista de espera", waitlistHelp: "Pacientes que esperan una plaza, urgentes primero, luego los más antiguos.",
      noEntries: "No hay entradas.", anyStatus: "Cualquier estado", anyType: "Cualquier tipo", statusLabel: "Estado", remove: "Quitar", removeConfirm: "Quitar de la lista de espera",
      removed: "{ref} ya no está en la lista de espera.", offer: "Ofrecer una hora", offered: "Se ha ofrecido una plaza a {ref}.", dates: "Entre el {from} y el {to}",
      offerUntil: "Ofrecida: {when}, reservada hasta {until}", times: { morning: "Mañanas", afternoon: "Tardes", any: "Cualquier hora" },
      wlStatus: { waiting: "En espera", offered: "Ofrecida", booked: "Reservada", lapsed: "Caducada", left: "Retirada" }, source: { web: "Web", phone: "Teléfono" },
      provider: "Profesional", anyProvider: "Cualquier profesional", view: "Vista", viewList: "Lista", viewHours: "Por hora", due: "Esperados", arrived: "Han llegado",
      late: "Con retraso", nobody: "Nadie.",
      keysTitle: "Atajos de teclado", keysAnywhere: "En cualquier pantalla", keysOnRow: "En una cita, un mensaje o una entrada de la lista de espera (con el foco en la fila o en uno de sus botones)",
      keysNotHere: "Ese atajo no tiene acción en esta fila.", keysPressEnter: "{action}: pulse Intro para hacerlo, Tab para dejarlo.",
      keys: [["/", "Buscar (el cursor en la caja de búsqueda)"], ["?", "Esta lista de atajos"], ["g t", "Ir a Hoy"], ["g r", "Ir a Solicitudes"], ["g b", "Ir a Reservar por teléfono"],
        ["g f", "Ir a Buscar"], ["g m", "Ir a Mensajes"], ["g w", "Ir a Lista de espera"], ["Esc", "Cerrar un formulario, o esta lista"]],
      rowKeys: [["↓|j", "Fila siguiente (desde la caja de búsqueda o el título de la pantalla: la primera)"], ["↑|k", "Fila anterior"], ["p", "Abrir la ficha del paciente"], ["c", "Confirmar una solicitud"], ["i", "Registrar llegada"],
        ["r", "Cambiar la hora (elegirla), o reintentar un mensaje fallido"], ["d", "Rechazar (pide el motivo)"], ["x", "Cancelar, o quitar de la lista de espera (pregunta antes)"], ["u", "Deshacer (pide el motivo)"],
        ["o", "Ofrecer una hora a una entrada de la lista de espera (elegirla)"], ["e", "Completar: al botón, luego Intro"], ["n", "No se presentó: al botón, luego Intro"], ["Intro", "Pulsar el botón con el foco"]],
      template: { received: "Solicitud recibida", confirmed: "Cita confirmada", declined: "Solicitud rechazada", cancelled: "Cita cancelada", rescheduled: "Cita cambiada", expired: "Solicitud caducada", reminder: "Recordatorio" },
      status: { pending: "Pendiente", confirmed: "Confirmada", declined: "Rechazada", expired: "Caducada", cancelled: "Cancelada", checked_in: "En la clínica", completed: "Completada", no_show: "No se presentó" },
    },
  };
  const FRONT_DESK = ["admin", "reception"];
  // Which actions each state offers, and who may take them (the server
  // enforces the same rules; the desk only hides what would be refused).
  const ACTIONS = {
    pending: ["confirm", "decline", "reschedule", "cancel"],
    confirmed: ["check-in", "no-show", "reschedule", "cancel"],
    checked_in: ["complete", "revert"],
    no_show: ["revert"],
  };
  const FRONT_DESK_ACTIONS = ["confirm", "decline", "cancel", "reschedule"];
  const NEEDS_REASON = { decline: "reasonDecline", revert: "reasonRevert", cancel: "reasonCancel" };
  const SCREENS = ["today", "requests", "find", "book", "waitlist", "messages"];
  const FRONT_DESK_SCREENS = ["requests", "book", "waitlist", "messages"];
  // Screens reached from another, not from the menu: a patient's record
  // (from Find or from any booking's patient name).
  const LINKED_SCREENS = ["patient"];
  const ACTIVE = "pending,confirmed,checked_in,completed,no_show";

  let lang = (navigator.language || "en").toLowerCase().startsWith("es") ? "es" : "en";
  const t = (k) => TEXT[lang][k] ?? TEXT.en[k];

  const session = { token: "", staff: /** @type {S["Staff"]} */ (null), refreshing: null, stream: null, lastEventId: "" };
  const view = { screen: "today", locations: /** @type {Loc[]} */ ([]), location: "", date: "", q: "", reload: null, searchAbort: null,
    patient: "", providers: /** @type {S["Provider"][]} */ ([]), provider: "", types: /** @type {CType[]} */ ([]), byHour: false, wlStatus: "waiting", wlType: "",
    watch: /** @type {Map<number, Message>} */ (new Map()), msgPoll: null, changedAt: 0 };

  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) if (kid !== null && kid !== undefined) e.append(kid);
    return e;
  }
  const say = (msg) => { $("status").textContent = msg; };

  // ---------------------------------------------------------------- the API

  // refresh exchanges the refresh cookie for a new access token. One at a
  // time: the cookie rotates, and presenting a spent one ends the session.
  function refresh() {
    if (!session.refreshing) {
      session.refreshing = fetch("/v1/auth/refresh", { method: "POST", credentials: "same-origin", headers: { "X-Requested-With": "fetch", Accept: "application/json" } })
        .then(async (r) => {
          if (!r.ok) return false;
          const body = /** @type {S["TokenResponse"]} */ (await r.json());
          session.token = body.access_token;
          session.staff = body.staff;
          return true;
        })
        .catch(() => false)
        .finally(() => { session.refreshing = null; });
    }
    return session.refreshing;
  }

  // api calls the API with the access token; an expired token is refreshed
  // once and the call retried. It answers the Response; a network failure
  // throws.
  async function api(method, path, body, opts = {}) {
    const headers = { Accept: opts.accept || "application/json", ...(opts.headers || {}) };
    if (session.token) headers.Authorization = "Bearer " + session.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(path, { method, headers, credentials: "same-origin", signal: opts.signal, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status === 401 && !opts.retried) {
      if (await refresh()) return api(method, path, body, { ...opts, retried: true });
      // The session is gone (signed out elsewhere, expired): this call
      // waits for the same person to sign in again, then goes again.
      if (await sessionLost()) return api(method, path, body, { ...opts, retried: true });
    }
    return r;
  }

  // sessionLost parks the screen when the session ends mid-work: its
  // elements, with all that was typed, stay in memory (never in web
  // storage) while the sign-in form shows. It answers, once someone signs
  // in, whether it is the same person, whose screen is then put back and
  // whose refused calls (this one among them) are sent again; anyone else
  // starts afresh. See signedIn.
  function sessionLost() {
    if (!session.lost) {
      if (!session.staff) return Promise.resolve(false);
      let resume;
      const wait = new Promise((ok) => { resume = ok; });
      session.lost = { wait, resume, staffId: session.staff.id, url: location.pathname + location.search, nodes: [...$("main").childNodes], focus: document.activeElement };
      signedOut(t("sessionEnded"));
    }
    return session.lost.wait;
  }

  async function problemDetail(r) {
    try {
      const p = /** @type {S["Problem"]} */ (await r.json());
      return p.detail || p.title || String(r.status);
    } catch {
      return String(r.status);
    }
  }

  // ---------------------------------------------------------------- sign-in

  function showSignIn(message) {
    $("top").hidden = true;
    const err = el("p", { id: "signin-error", class: "error", role: "alert", text: message || "" });
    const form = el("form", { class: "signin", "aria-labelledby": "signin-title", novalidate: true },
      el("label", {}, t("email"), el("input", { type: "email", name: "email", autocomplete: "username", required: true })),
      el("label", {}, t("password"), el("input", { type: "password", name: "password", autocomplete: "current-password", required: true })),
      err,
      el("button", { type: "submit", class: "primary", text: t("signIn") }));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      err.textContent = "";
      try {
        const r = await fetch("/v1/auth/login", {
          method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ email: form.email.value, password: form.password.value, refresh_in_cookie: true }),
        });
        if (!r.ok) {
          err.textContent = r.status === 401 ? t("signInFailed") : await problemDetail(r);
          form.password.focus();
          return;
        }
        const body = /** @type {S["TokenResponse"]} */ (await r.json());
        session.token = body.access_token;
        session.staff = body.staff;
        signedIn();
      } catch {
        err.textContent = t("offline");
      } finally {
        button.disabled = false;
      }
    });
    $("main").replaceChildren(el("h1", { id: "signin-title", text: t("signInTitle") }), form);
    form.email.focus();
  }

  function signedIn() {
    $("top").hidden = false;
    $("who").textContent = session.staff ? session.staff.name : "";
    const lost = session.lost;
    session.lost = null;
    if (lost && session.staff && session.staff.id === lost.staffId) {
      // Back where the session ended: the same screen as it was left.
      if (location.pathname + location.search !== lost.url) history.replaceState(null, "", lost.url);
      renderNav();
      $("main").replaceChildren(...lost.nodes);
      if (lost.focus && lost.focus.isConnected) lost.focus.focus();
      startStream();
      lost.resume(true);
      return;
    }
    if (lost) lost.resume(false);
    renderNav();
    startStream();
    route(false);
  }

  function signedOut(message) {
    session.token = "";
    session.staff = null;
    stopStream();
    showSignIn(message || t("signedOut"));
  }

  async function signOut() {
    stopStream();
    try {
      await fetch("/v1/auth/logout", { method: "POST", credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
    } catch {
      // Signed out here regardless; the session expires on its own.
    }
    session.token = "";
    session.staff = null;
    if (session.lost) { session.lost.resume(false); session.lost = null; }
    history.pushState(null, "", "/desk");
    showSignIn("");
  }

  const frontDesk = () => session.staff && FRONT_DESK.includes(session.staff.role);

  // ---------------------------------------------------------------- the live feed

  // A browser EventSource cannot send the bearer token, so the stream is
  // read with fetch. It ends with its access token: refresh and resume
  // from the last id, missing nothing.
  async function startStream() {
    stopStream();
    const ctl = new AbortController();
    session.stream = ctl;
    let delay = 500;
    while (session.stream === ctl && session.token) {
      try {
        const headers = { Authorization: "Bearer " + session.token, Accept: "text/event-stream" };
        if (session.lastEventId) headers["Last-Event-ID"] = session.lastEventId;
        const r = await fetch("/v1/booking-events/stream", { headers, signal: ctl.signal, credentials: "same-origin" });
        if (r.status === 401) {
          if (!(await refresh())) { if (session.stream === ctl) sessionLost(); return; }
          continue;
        }
        if (!r.ok) throw new Error(String(r.status));
        delay = 500;
        scheduleReload(); // whatever changed before the stream opened
        await readEvents(r.body, ctl);
      } catch (e) {
        if (ctl.signal.aborted) return;
      }
      if (session.stream !== ctl) return;
      await new Promise((ok) => setTimeout(ok, delay));
      delay = Math.min(delay * 2, 10000);
      // The stream may have ended because the token expired.
      await refresh();
    }
  }

  async function readEvents(body, ctl) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let id = "";
    let data = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done || ctl.signal.aborted) return;
      buf += value;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, "");
        buf = buf.slice(nl + 1);
        if (line === "") {
          if (data) {
            if (id) session.lastEventId = id;
            view.changedAt = Date.now();
            scheduleReload();
          }
          id = "";
          data = "";
        } else if (line.startsWith("id:")) id = line.slice(3).trim();
        else if (line.startsWith("data:")) data += line.slice(5);
      }
    }
  }

  function stopStream() {
    if (session.stream) session.stream.abort();
    session.stream = null;
  }

  // A change on the feed reloads what the screen shows (soon, once for a
  // burst); rows that did not change keep their elements and the focus.
  function scheduleReload() {
    clearTimeout(view.reload);
    view.reload = setTimeout(() => { if (session.token) load(); }, 100);
  }

  // ---------------------------------------------------------------- screens

  function renderNav() {
    const links = SCREENS.filter((s) => !FRONT_DESK_SCREENS.includes(s) || frontDesk()).map((s) =>
      el("a", { href: "/desk/" + s, "data-screen": s, text: t(s), "aria-current": s === view.screen ? "page" : null,
        onclick: (ev) => { ev.preventDefault(); go(s); } }));
    $("nav").replaceChildren(...links);
  }

  function go(screen, query) {
    history.pushState(null, "", "/desk/" + screen + (query ? "?" + query : ""));
    route(true);
  }

  function route(focus) {
    const path = location.pathname.replace(/\/+$/, "");
    let screen = path.slice("/desk/".length) || "today";
    const params = new URLSearchParams(location.search);
    view.patient = params.get("id") || "";
    if (!(SCREENS.includes(screen) || LINKED_SCREENS.includes(screen)) || (FRONT_DESK_SCREENS.includes(screen) && !frontDesk()) ||
        (screen === "patient" && !view.patient)) {
      screen = "today";
      if (path !== "/desk") history.replaceState(null, "", "/desk/today");
    }
    if (screen !== view.screen) view.watch.clear();
    view.screen = screen;
    view.q = new URLSearchParams(location.search).get("q") || "";
    if (screen === "find" && /** @type {HTMLInputElement} */ ($("q")).value !== view.q) /** @type {HTMLInputElement} */ ($("q")).value = view.q;
    renderNav();
    const main = $("main");
    const list = el("ul", { class: "bookings", id: "list", "aria-labelledby": "screen-title" });
    const head = el("h1", { id: "screen-title", tabindex: "-1", text: t(screen + "Title") });
    if (screen === "requests") {
      main.replaceChildren(head, el("p", { class: "meta", text: t("requestsHelp") }), list);
    } else if (screen === "today") {
      main.replaceChildren(head, todayToolbar(), list, el("div", { id: "hours", class: "hours", hidden: true }));
    } else if (screen === "patient") {
      list.setAttribute("aria-labelledby", "bookings-title");
      main.replaceChildren(head, el("dl", { class: "details", id: "details", "aria-label": t("details") }),
        el("h2", { id: "bookings-title", text: t("bookings") }), list,
        ...(frontDesk() ? [el("h2", { id: "messages-title", text: t("messages") }), el("ul", { class: "messages", id: "messages", "aria-labelledby": "messages-title" })] : []));
    } else if (screen === "messages") {
      main.replaceChildren(head, el("p", { class: "meta", text: t("messagesHelp") }), el("ul", { class: "messages", id: "messages", "aria-labelledby": "screen-title" }));
    } else if (screen === "waitlist") {
      main.replaceChildren(head, el("p", { class: "meta", text: t("waitlistHelp") }), waitlistToolbar(),
        el("ul", { class: "bookings", id: "waitlist", "aria-labelledby": "screen-title" }));
    } else if (screen === "book") {
      main.replaceChildren(head);
      bookScreen(main);
      document.title = t("bookTitle") + " · " + t("title");
      if (focus) head.focus();
      return;
    } else {
      list.setAttribute("aria-labelledby", "bookings-title");
      main.replaceChildren(head, el("p", { class: "meta", id: "find-help", text: t("findHelp") }),
        el("h2", { id: "patients-title", text: t("patients") }), el("ul", { class: "patients", id: "patients", "aria-labelledby": "patients-title" }),
        el("h2", { id: "bookings-title", text: t("bookings") }), list);
    }
    document.title = t(screen + "Title") + " · " + t("title");
    if (focus) head.focus();
    load();
  }

  function todayToolbar() {
    const loc = el("select", { name: "location_id", id: "location", onchange: () => { view.location = loc.value; view.date = ""; load(); } });
    const prov = el("select", { name: "provider_id", id: "provider", onchange: () => { view.provider = prov.value; load(); } },
      el("option", { value: "", text: t("anyProvider") }));
    const date = el("input", { type: "date", name: "date", id: "date", onchange: () => { view.date = date.value; load(); } });
    const mode = (value, text) => el("label", { class: "check" }, el("input", { type: "radio", name: "view", value, checked: view.byHour === (value === "hours"),
      onchange: () => { view.byHour = value === "hours"; load(); } }), " " + text);
    return el("div", { class: "toolbar" },
      el("label", { for: "location" }, t("location")), loc,
      el("label", { for: "provider" }, t("provider")), prov,
      el("label", { for: "date" }, t("date")), date,
      el("fieldset", { class: "modes" }, el("legend", { text: t("view") }), mode("list", t("viewList")), mode("hours", t("viewHours"))),
      el("button", { type: "button", id: "export", text: t("export"), onclick: exportDaySheet }));
  }

  async function providers() {
    if (view.providers.length === 0) {
      const r = await api("GET", "/v1/providers");
      if (r.ok) view.providers = /** @type {S["ProviderList"]} */ (await r.json()).items.filter((p) => p.active !== false);
    }
    return view.providers;
  }

  // fillHours shows the day by hour: in each hour, who is still due (late
  // once their time has passed) and who has arrived.
  /** @param {Booking[]} items */
  function fillHours(items) {
    const box = $("hours");
    if (!box) return;
    const hour = (b) => new Intl.DateTimeFormat("en-GB", { timeZone: b.timezone || undefined, hour: "2-digit", hourCycle: "h23" }).format(new Date(b.slot.start_at));
    const groups = new Map();
    for (const b of items) {
      const h = hour(b);
      if (!groups.has(h)) groups.set(h, { due: [], arrived: [] });
      groups.get(h)[b.status === "checked_in" || b.status === "completed" ? "arrived" : "due"].push(b);
    }
    const part = (h, key, list) => {
      const id = `h${h}-${key}`;
      return el("div", { class: "part", "data-part": key },
        el("h3", { id, text: `${t(key)} (${list.length})` }),
        el("ul", { class: "bookings", "aria-labelledby": id }, list.length ? list.map(bookingRow) : el("li", { class: "empty", text: t("nobody") })));
    };
    keepFocus(box, "data-booking-id", () => box.replaceChildren(...(groups.size ? [...groups].map(([h, g]) =>
      el("section", { class: "hour", "data-hour": h, "aria-labelledby": "hour-" + h }, el("h2", { id: "hour-" + h, text: h + ":00" }),
        el("div", { class: "parts" }, part(h, "due", g.due), part(h, "arrived", g.arrived))))
      : [el("p", { class: "empty", text: t("noBookings") })])));
  }

  // exportDaySheet downloads the day sheet as the API writes it for a
  // spreadsheet (Accept: text/csv; never intake).
  async function exportDaySheet() {
    const loc = view.locations.find((l) => l.id === view.location);
    if (!loc || !view.date) return;
    try {
      const q = new URLSearchParams({ location_id: loc.id, from: view.date, to: view.date, sort: "start_at", status: ACTIVE });
      if (view.provider) q.set("provider_id", view.provider);
      const r = await api("GET", "/v1/bookings?" + q, undefined, { accept: "text/csv" });
      if (!r.ok) { say(await problemDetail(r)); return; }
      const url = URL.createObjectURL(await r.blob());
      const a = el("a", { href: url, download: `day-sheet-${view.date}.csv` });
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      say(t("exported"));
    } catch {
      say(t("offline"));
    }
  }

  async function locations() {
    if (view.locations.length === 0) {
      const r = await api("GET", "/v1/locations");
      if (r.ok) view.locations = /** @type {S["LocationList"]} */ (await r.json()).items.filter((l) => l.active !== false);
    }
    return view.locations;
  }

  // localDate is YYYY-MM-DD of now in the zone.
  function localDate(zone) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  }

  let loadSeq = 0;
  async function load() {
    const seq = ++loadSeq;
    const screen = view.screen;
    let path;
    let empty;
    try {
      if (screen === "requests") {
        path = "/v1/bookings?status=pending&sort=triage&limit=200";
        empty = t("noRequests");
      } else if (screen === "today") {
        const locs = await locations();
        const sel = /** @type {HTMLSelectElement} */ ($("location"));
        if (!sel) return;
        if (sel.options.length !== locs.length) sel.replaceChildren(...locs.map((l) => el("option", { value: l.id, text: l.name })));
        if (!view.location && locs.length) view.location = locs[0].id;
        sel.value = view.location;
        const loc = locs.find((l) => l.id === view.location);
        if (!view.date) view.date = localDate(loc ? loc.timezone : undefined);
        /** @type {HTMLInputElement} */ ($("date")).value = view.date;
        if (!loc) return;
        const provs = await providers();
        const psel = /** @type {HTMLSelectElement} */ ($("provider"));
        if (!psel) return;
        if (psel.options.length !== provs.length + 1) psel.append(...provs.map((p) => el("option", { value: p.id, text: p.name })));
        psel.value = view.provider;
        const q = new URLSearchParams({ location_id: loc.id, from: view.date, to: view.date, sort: "start_at", status: ACTIVE, limit: "200" });
        if (view.provider) q.set("provider_id", view.provider);
        const r = await api("GET", "/v1/bookings?" + q);
        if (seq !== loadSeq || screen !== view.screen) return;
        if (!r.ok) { if (r.status !== 401) say(await problemDetail(r)); return; }
        const items = /** @type {S["BookingList"]} */ (await r.json()).items;
        // The day sheet's render is measured (the browser test reports it).
        performance.mark("desk-day-sheet-start");
        $("list").hidden = view.byHour;
        $("hours").hidden = !view.byHour;
        // One view at a time holds the rows, so that a booking has one element.
        if (view.byHour) { $("list").replaceChildren(); fillHours(items); } else { $("hours").replaceChildren(); fill(items, t("noBookings")); }
        performance.measure("desk-day-sheet", "desk-day-sheet-start");
        return;
      } else if (screen === "patient") {
        await loadPatient(seq);
        return;
      } else if (screen === "messages") {
        await loadMessages(seq);
        return;
      } else if (screen === "waitlist") {
        await loadWaitlist(seq);
        return;
      } else {
        const q = view.q.trim();
        if (!q) { fill([], ""); showPatients([]); return; }
        if (view.searchAbort) view.searchAbort.abort();
        view.searchAbort = new AbortController();
        path = "/v1/bookings?" + new URLSearchParams({ q, limit: "50" });
        empty = t("noResults");
        const signal = view.searchAbort.signal;
        // The patient search reads phone digits in any format and dates of
        // birth as callers read them out: the query goes as typed.
        const [r, pr] = await Promise.all([api("GET", path, undefined, { signal }),
          api("GET", "/v1/patients?" + new URLSearchParams({ q, limit: "10" }), undefined, { signal })]);
        if (seq !== loadSeq) return;
        if (!r.ok) { say(await problemDetail(r)); return; }
        fill(/** @type {S["BookingList"]} */ (await r.json()).items, empty);
        if (pr.ok) showPatients(/** @type {S["PatientRecordList"]} */ (await pr.json()).items);
        return;
      }
      const r = await api("GET", path);
      if (seq !== loadSeq || screen !== view.screen) return;
      if (!r.ok) { if (r.status !== 401) say(await problemDetail(r)); return; }
      fill(/** @type {S["BookingList"]} */ (await r.json()).items, empty);
    } catch (e) {
      if (e.name !== "AbortError") say(t("offline"));
    }
  }

  // fill shows the bookings in the list, keeping the element (and so the
  // focus and an open reason form) of every booking whose version did not
  // change.
  /** @param {Booking[]} items */
  function fill(items, empty) {
    const list = $("list");
    if (!list) return;
    const old = new Map([.../** @type {NodeListOf<HTMLElement>} */ (list.querySelectorAll("li[data-booking-id]"))].map((li) => [li.dataset.bookingId, li]));
    const focused = /** @type {HTMLElement} */ (document.activeElement);
    const rows = items.map((b) => {
      const prev = old.get(b.id);
      // An answer older than what is shown (a list read before an action
      // finished) never takes the newer state back.
      if (prev && Number(prev.dataset.version) >= b.version) return prev;
      const li = bookingRow(b);
      const form = /** @type {HTMLElement} */ (prev && prev.querySelector("form.reason"));
      if (form && li.querySelector(`[data-action="${form.dataset.reasonFor}"]`)) {
        // A reason being typed survives a change elsewhere in the booking.
        li.insertBefore(form, li.querySelector(".problem"));
        if (form.contains(focused)) queueMicrotask(() => focused.focus());
      } else if (prev && prev.contains(focused)) {
        // Keep the focus near where it was: the same action, or the row.
        const again = focused.dataset && li.querySelector(`[data-action="${focused.dataset.action}"]`);
        queueMicrotask(() => (again || li).focus());
      }
      return li;
    });
    if (rows.length === 0 && empty) rows.push(el("li", { class: "empty", text: empty }));
    // Move only what moved: a row taken out and put back loses the focus.
    rows.forEach((row, i) => { if (list.children[i] !== row) list.insertBefore(row, list.children[i] || null); });
    while (list.children.length > rows.length) list.lastElementChild.remove();
    if (focused && focused.isConnected && document.activeElement !== focused && list.contains(focused)) focused.focus();
  }

  // showPatients lists the patient records the search found; each one's
  // bookings are a search by its phone number away.
  /** @param {S["PatientRecord"][]} items */
  function showPatients(items) {
    const ul = $("patients");
    if (!ul) return;
    ul.replaceChildren(...(items.length ? items.map((p) => el("li", { class: "patient", "data-patient-id": p.id },
      el("a", { class: "who", href: "/desk/patient?id=" + encodeURIComponent(p.id), "data-patient-link": p.id, text: `${p.first_name} ${p.last_name}`,
        onclick: (ev) => { ev.preventDefault(); go("patient", "id=" + encodeURIComponent(p.id)); } }), " ",
      el("span", { class: "meta", text: [t("born") + " " + p.date_of_birth, p.phone, p.email].filter(Boolean).join(" · ") }), " ",
      el("button", { type: "button", "data-show-bookings": p.id, text: t("theirBookings"), "aria-label": `${t("theirBookings")}: ${p.first_name} ${p.last_name}`,
        onclick: () => { /** @type {HTMLInputElement} */ ($("q")).value = p.phone; go("find", "q=" + encodeURIComponent(p.phone)); } })))
      : [el("li", { class: "empty", text: t("noResults") })]));
  }

  /** @param {Booking} b */
  function fmtTime(b) {
    const opts = /** @type {Intl.DateTimeFormatOptions} */ ({ timeZone: b.timezone || undefined, hour: "2-digit", minute: "2-digit" });
    if (view.screen !== "today") Object.assign(opts, { weekday: "short", day: "numeric", month: "short" });
    return new Intl.DateTimeFormat(lang, opts).format(new Date(b.slot.start_at));
  }

  /** @param {Booking} b */
  function bookingRow(b) {
    const name = `${b.patient.first_name} ${b.patient.last_name}`;
    const urgent = b.triage && b.triage.level === "urgent";
    // Due and not here once the time has come: running late.
    const late = b.status === "confirmed" && new Date(b.slot.start_at).getTime() < Date.now();
    const label = `row-${b.id}`;
    const actions = (ACTIONS[b.status] || []).filter((a) => frontDesk() || !FRONT_DESK_ACTIONS.includes(a));
    const li = el("li", { class: "booking", tabindex: "-1", "data-booking-id": b.id, "data-status": b.status, "data-version": String(b.version),
      "data-reference": b.reference, "data-triage": urgent ? "urgent" : null, "aria-labelledby": label },
    el("div", { class: "when" }, el("time", { datetime: b.slot.start_at, text: fmtTime(b) })),
    el("div", {},
      el("div", {}, el("span", { class: "who", id: label }, view.screen === "patient" ? name : patientLink(b)), " ",
        el("span", { class: "badge", "data-status-label": true, text: t("status")[b.status] || b.status }),
        urgent ? el("span", { class: "badge urgent", title: t("triageNote"), text: t("urgent") + (b.triage.rules && b.triage.rules.length ? ": " + b.triage.rules.join(", ") : "") }) : null,
        late ? el("span", { class: "badge late", "data-late": true, text: t("late") }) : null),
      el("div", { class: "meta", text: [b.reference, b.patient.phone, b.patient.date_of_birth, b.consultation_type_name, b.provider_name, view.screen === "today" ? null : b.location_name].filter(Boolean).join(" · ") })),
    el("div", { class: "actions" }, actions.map((a) => el("button", { type: "button", "data-action": a, "aria-describedby": label, text: t("actions")[a],
      "aria-keyshortcuts": KEY_OF[a], onclick: () => act(li, b, a) }))),
    el("p", { class: "problem", role: "alert" }));
    return li;
  }

  /** @param {Booking} b */
  async function act(li, b, action) {
    if (NEEDS_REASON[action]) { reasonForm(li, b, action); return; }
    if (action === "reschedule") { rescheduleForm(li, b); return; }
    await transition(li, b, action, undefined);
  }

  /** @param {Booking} b */
  function reasonForm(li, b, action) {
    const existing = li.querySelector("form.reason");
    if (existing) existing.remove();
    const id = `reason-${b.id}`;
    const input = el("textarea", { id, name: "reason", rows: "2", maxlength: "1000", required: action !== "cancel" ? true : null });
    const form = el("form", { class: "reason", "data-reason-for": action },
      el("label", { for: id }, t(NEEDS_REASON[action])), input,
      el("button", { type: "submit", text: t("send") + ": " + t("actions")[action] }),
      el("button", { type: "button", text: t("close"), onclick: () => { form.remove(); li.querySelector(`[data-action="${action}"]`)?.focus(); } }));
    form.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { form.remove(); li.querySelector(`[data-action="${action}"]`)?.focus(); } });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const reason = input.value.trim();
      if (!reason && action !== "cancel") { input.focus(); return; }
      transition(li, b, action, reason ? { reason } : {});
    });
    li.insertBefore(form, li.querySelector(".problem"));
    input.focus();
  }

  // rowOf is the element that shows the booking now: the live feed may
  // have redrawn it while an action was on its way.
  const rowOf = (id, li) => document.querySelector(`li[data-booking-id="${CSS.escape(id)}"]`) || li;

  // windowTag marks a free time the website would not offer (the desk asks
  // with window=staff): started (how long ago, for the receptionist to
  // judge what is left of it), inside the minimum notice, or beyond the
  // furthest online booking.
  /** @param {S["NextSlot"]} x @param {number} now @param {S["BookingPolicy"]} policy */
  const windowTag = (x, now, policy) => {
    const start = Date.parse(x.start_at);
    let kind = "", text = "";
    if (start <= now) {
      const min = Math.floor((now - start) / 60000);
      kind = "started"; text = min < 1 ? t("startingNow") : t("startedAgo").replace("{n}", String(min));
    } else if (start < now + policy.min_notice * 1000) {
      kind = "notice"; text = t("withinNotice");
    } else if (policy.max_advance > 0 && start > now + policy.max_advance * 1000) {
      kind = "ahead"; text = t("beyondAdvance");
    }
    return kind ? el("span", { class: "badge", "data-window": kind, title: t("deskOnly"), text }) : null;
  };

  // slotChoice is one free time to choose, as a radio button, marked by
  // windowTag when the desk's window was asked for (policy given).
  /** @param {S["NextSlot"]} x @param {number} now @param {S["BookingPolicy"]} [policy] */
  const slotChoice = (x, now, policy) => {
    const tag = policy ? windowTag(x, now, policy) : null;
    return el("label", { class: "slot" },
      el("input", { type: "radio", name: "slot_id", value: x.id, "data-slot-id": x.id }),
      " " + new Intl.DateTimeFormat(lang, { timeZone: x.timezone, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }).format(new Date(x.start_at)) +
      (x.location_name ? " · " + x.location_name : ""), tag ? " " : null, tag);
  };

  // rescheduleForm offers the next free times of the booking's type (staff
  // may move it to any provider or location).
  /** @param {Booking} b */
  async function rescheduleForm(li, b) {
    const existing = li.querySelector("form.reason");
    if (existing) existing.remove();
    const legend = `resched-${b.id}`;
    const close = () => { form.remove(); li.querySelector('[data-action="reschedule"]')?.focus(); };
    const choices = el("div", { class: "slots" });
    const form = el("form", { class: "reason", "data-reason-for": "reschedule", role: "group", "aria-labelledby": legend },
      el("p", { class: "legend", id: legend, text: t("newTime") }), choices,
      el("button", { type: "submit", text: t("send") + ": " + t("actions").reschedule }),
      el("button", { type: "button", text: t("close"), onclick: close }));
    form.addEventListener("keydown", (ev) => { if (ev.key === "Escape") close(); });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const chosen = form.querySelector('input[name="slot_id"]:checked');
      if (chosen) transition(li, b, "reschedule", { slot_id: chosen.value });
    });
    li.insertBefore(form, li.querySelector(".problem"));
    try {
      const [r, pol] = await Promise.all([
        api("GET", "/v1/availability/next?" + new URLSearchParams({ window: "staff", consultation_type_id: b.slot.consultation_type_id, limit: "8", locale: lang })),
        api("GET", "/v1/booking-policy")]);
      const failed = [r, pol].find((x) => !x.ok);
      if (failed) { choices.append(el("p", { class: "error", text: await problemDetail(failed) })); return; }
      const policy = /** @type {S["BookingPolicy"]} */ (await pol.json());
      const list = /** @type {S["NextAvailability"]} */ (await r.json()).slots.filter((x) => x.id !== b.slot.id);
      const now = Date.now();
      choices.append(...(list.length ? list.map((x) => slotChoice(x, now, policy)) : [el("p", { class: "empty", text: t("noSlots") })]));
      (form.querySelector('input[name="slot_id"]') || form).focus();
    } catch {
      choices.append(el("p", { class: "error", text: t("offline") }));
    }
  }

  /** @param {Booking} b */
  async function transition(li, b, action, body) {
    li.querySelector(".problem").textContent = "";
    const buttons = li.querySelectorAll("button");
    buttons.forEach((x) => { x.disabled = true; });
    try {
      const r = await api("POST", `/v1/bookings/${encodeURIComponent(b.id)}/${action}`, body);
      if (!r.ok) {
        if (r.status === 409 || r.status === 412) await changedMeanwhile(li, b, action, await problemDetail(r));
        else if (r.status !== 401) rowOf(b.id, li).querySelector(".problem").textContent = await problemDetail(r);
        return;
      }
      const after = /** @type {Booking} */ (await r.json());
      say(t("done").replace("{ref}", after.reference).replace("{status}", t("status")[after.status] || after.status));
      const cur = rowOf(b.id, li);
      if (cur.isConnected && Number(cur.dataset.version) < after.version) {
        const fresh = bookingRow({ ...b, ...after });
        cur.replaceWith(fresh);
        (fresh.querySelector("button[data-action]") || fresh).focus();
      }
      scheduleReload();
    } catch {
      rowOf(b.id, li).querySelector(".problem").textContent = t("offline");
    } finally {
      buttons.forEach((x) => { x.disabled = false; });
    }
  }

  // ---------------------------------------------------------------- a patient's record, messages, waitlist

  // keepFocus rebuilds a list with render() and puts the focus back on
  // the same item (by key) and the same button, when it was in the list
  // (or on the very control, in a form the redraw kept open).
  function keepFocus(list, key, render) {
    const focused = /** @type {HTMLElement} */ (document.activeElement);
    const inside = focused && list.contains(focused);
    const item = inside ? focused.closest(`[${key}]`) : null;
    const id = item && item.getAttribute(key);
    const action = inside && focused.dataset ? focused.dataset.action : null;
    render();
    // A form kept open across the redraw (moved into the new item) keeps
    // its focused control: moving it took the focus away.
    if (inside && focused.isConnected && list.contains(focused)) { focused.focus(); return; }
    if (!id) return;
    const again = list.querySelector(`[${key}="${CSS.escape(id)}"]`);
    if (again) (action && again.querySelector(`[data-action="${action}"]`) || again).focus();
  }

  // loadPatient shows one patient record: the details, every booking
  // (newest first, with their actions) and, for the front desk, every
  // message about them with a retry for a failed one.
  async function loadPatient(seq) {
    const r = await api("GET", "/v1/patients/" + encodeURIComponent(view.patient));
    if (seq !== loadSeq || view.screen !== "patient") return;
    if (!r.ok) { if (r.status !== 401) say(await problemDetail(r)); return; }
    const rec = /** @type {S["PatientRecordDetail"]} */ (await r.json());
    const p = rec.patient;
    const name = `${p.first_name} ${p.last_name}`;
    $("screen-title").textContent = name;
    document.title = name + " · " + t("title");
    $("details").replaceChildren(...[[t("bornLabel"), p.date_of_birth], [t("phoneLabel"), p.phone], [t("emailLabel"), p.email]]
      .filter((x) => x[1]).flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
    fill(rec.bookings, t("noBookings"));
    if (frontDesk()) await loadRecordMessages(seq);
  }

  // loadRecordMessages lists every message about the record's bookings.
  async function loadRecordMessages(seq) {
    const mr = await api("GET", "/v1/messages?" + new URLSearchParams({ patient_id: view.patient, limit: "100" }));
    if (seq !== loadSeq || view.screen !== "patient" || !mr.ok) return;
    showMessages(/** @type {S["MessageList"]} */ (await mr.json()).items, t("noMessages"));
    pollMessages();
  }

  // loadMessages lists the failed messages, each with the booking it was
  // about (the list carries each one's reference, patient and time). A
  // message retried here stays on the list, as it is now (sending, sent),
  // until the screen is left: the receptionist sees it go out, or fail
  // again. Its state is read from its patient's messages, since the list
  // of failed ones no longer holds it.
  async function loadMessages(seq) {
    const r = await api("GET", "/v1/messages?status=failed&limit=100");
    if (seq !== loadSeq || view.screen !== "messages") return;
    if (!r.ok) { if (r.status !== 401) say(await problemDetail(r)); return; }
    const items = /** @type {S["MessageList"]} */ (await r.json()).items;
    for (const m of items) view.watch.delete(m.id); // failed again: listed as such
    for (const [id, m] of view.watch) if (!m.booking || !m.booking.patient_id) view.watch.delete(id); // no record to read it from
    const patients = new Set([...view.watch.values()].map((m) => m.booking && m.booking.patient_id).filter(Boolean));
    await Promise.all([...patients].map(async (id) => {
      const pr = await api("GET", "/v1/messages?" + new URLSearchParams({ patient_id: id, limit: "100" }));
      if (!pr.ok) return;
      for (const m of /** @type {S["MessageList"]} */ (await pr.json()).items) if (view.watch.has(m.id) && m.status !== "failed") view.watch.set(m.id, m);
    }));
    if (seq !== loadSeq || view.screen !== "messages") return;
    const shown = items.concat([...view.watch.values()].filter((m) => !items.some((x) => x.id === m.id)));
    if (shown.length > items.length) shown.sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id);
    showMessages(shown, t("noFailed"));
    pollMessages();
  }

  // The live feed carries booking changes (and so a booking's new
  // messages), not deliveries: while Messages or a record is shown, its
  // messages are read again, every 2 s while one is being sent (after a
  // retry, say) or in the 10 s after a booking change (whose messages
  // follow it), every 20 s otherwise, and not while the page is hidden.
  // Rows that did not change keep the focus (keepFocus).
  const POLL_SENDING = 2000;
  const POLL_IDLE = 20000;
  const AFTER_CHANGE = 10000;
  function pollMessages() {
    clearTimeout(view.msgPoll);
    const on = () => session.token && frontDesk() && (view.screen === "messages" || view.screen === "patient");
    if (!on()) return;
    const sending = [...document.querySelectorAll("#messages [data-message-id]")].some((x) => /** @type {HTMLElement} */ (x).dataset.status === "pending");
    view.msgPoll = setTimeout(() => {
      if (!on()) return;
      if (document.visibilityState !== "visible") { pollMessages(); return; }
      const seq = loadSeq; // a full load started meanwhile wins
      (view.screen === "messages" ? loadMessages(seq) : loadRecordMessages(seq)).catch(() => pollMessages());
    }, sending || Date.now() - view.changedAt < AFTER_CHANGE ? POLL_SENDING : POLL_IDLE);
  }

  const fmtWhen = (iso, zone) => new Intl.DateTimeFormat(lang, { timeZone: zone || undefined, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }).format(new Date(iso));

  /** @param {Message[]} items */
  function showMessages(items, empty) {
    const ul = $("messages");
    if (!ul) return;
    // Read again on a timer: redrawn only when something changed.
    const sig = lang + JSON.stringify(items.map((m) => [m.id, m.status, m.attempts, m.last_error, m.booking && m.booking.status]));
    if (ul.dataset.sig === sig) return;
    ul.dataset.sig = sig;
    keepFocus(ul, "data-message-id", () => ul.replaceChildren(...(items.length ? items.map(messageRow)
      : [el("li", { class: "empty", text: empty })])));
  }

  // fmtAppointment is when an appointment is, in its location's zone.
  const fmtAppointment = (iso, zone) => new Intl.DateTimeFormat(lang, { timeZone: zone || undefined, weekday: "short", day: "numeric", month: "short",
    hour: "2-digit", minute: "2-digit" }).format(new Date(iso));

  /** @param {Message} m */
  function messageRow(m) {
    const label = `msg-${m.id}`;
    const b = m.booking;
    const zone = b && b.timezone;
    const li = el("li", { class: "message", tabindex: "-1", "data-message-id": String(m.id), "data-status": m.status, "data-booking-id-ref": m.booking_id, "aria-labelledby": label },
      el("div", { class: "when" }, el("time", { datetime: m.created_at, text: fmtWhen(m.created_at, zone) })),
      el("div", {},
        el("div", {}, el("span", { class: "who", id: label, text: `${t("channel")[m.channel] || m.channel}: ${t("template")[m.template] || m.template}` }), " ",
          el("span", { class: "badge", "data-status-label": true, text: t("msgStatus")[m.status] || m.status })),
        el("div", { class: "meta", "data-booking-ref": b ? b.reference : null }, b && view.screen !== "patient" ? [recordLink(b.patient_id, `${b.first_name} ${b.last_name}`), " · "] : null,
          [b ? b.reference : null, b ? t("appointment").replace("{when}", fmtAppointment(b.start_at, b.timezone)) : null, b ? t("status")[b.status] || b.status : null,
            t("attempts").replace("{n}", String(m.attempts))].filter(Boolean).join(" · ")),
        m.last_error && m.status !== "sent" ? el("div", { class: "meta" }, t("lastError") + ": ", el("code", { text: m.last_error })) : null),
      el("div", { class: "actions" }, m.status === "failed" ? el("button", { type: "button", "data-action": "retry", "aria-describedby": label, text: t("retry"), "aria-keyshortcuts": KEY_OF.retry,
        onclick: () => retryMessage(m) }) : null),
      el("p", { class: "problem", role: "alert" }));
    return li;
  }

  const messageEl = (id) => document.querySelector(`li[data-message-id="${CSS.escape(String(id))}"]`);

  /** @param {Message} m */
  async function retryMessage(m) {
    const li = messageEl(m.id);
    const button = /** @type {HTMLButtonElement} */ (li && li.querySelector('[data-action="retry"]'));
    if (button) button.disabled = true;
    try {
      const r = await api("POST", `/v1/messages/${encodeURIComponent(m.id)}/retry`);
      const cur = messageEl(m.id);
      if (!r.ok) {
        if (r.status !== 401 && cur) cur.querySelector(".problem").textContent = await problemDetail(r);
        return;
      }
      const after = /** @type {Message} */ (await r.json());
      // Said as the row shows it ("Email: Booking confirmed"), for whom: the
      // message's number means nothing at the desk.
      const b = after.booking || m.booking;
      say(t("retried").replace("{what}", `${t("channel")[m.channel] || m.channel}: ${t("template")[m.template] || m.template}`)
        .replace("{name}", b ? `${b.first_name} ${b.last_name}` : "—"));
      if (view.screen === "messages") view.watch.set(after.id, after.booking ? after : { ...after, booking: m.booking });
      if (cur) {
        const fresh = messageRow(after.booking ? after : { ...after, booking: m.booking });
        cur.replaceWith(fresh);
        fresh.focus();
      }
      pollMessages();
    } catch {
      const cur = messageEl(m.id);
      if (cur) cur.querySelector(".problem").textContent = t("offline");
    } finally {
      if (button) button.disabled = false;
    }
  }

  // patientLink opens the record of a booking's patient (a booking made
  // before records existed has none: then the name alone).
  /** @param {Booking} b */
  const patientLink = (b) => recordLink(b.patient_id, `${b.patient.first_name} ${b.patient.last_name}`);

  /** @param {string | null | undefined} id @param {string} name */
  function recordLink(id, name) {
    if (!id) return el("span", { text: name });
    return el("a", { href: "/desk/patient?id=" + encodeURIComponent(id), "data-patient-link": id, text: name,
      onclick: (ev) => { ev.preventDefault(); go("patient", "id=" + encodeURIComponent(id)); } });
  }

  async function consultationTypes() {
    if (view.types.length === 0) {
      const r = await api("GET", "/v1/consultation-types");
      if (r.ok) view.types = /** @type {S["ConsultationTypeList"]} */ (await r.json()).items;
    }
    return view.types;
  }

  function waitlistToolbar() {
    const status = el("select", { id: "wl-status", name: "status", onchange: () => { view.wlStatus = status.value; load(); } },
      el("option", { value: "", text: t("anyStatus") }), Object.entries(t("wlStatus")).map(([k, v]) => el("option", { value: k, text: v })));
    status.value = view.wlStatus;
    const type = el("select", { id: "wl-type", name: "consultation_type_id", onchange: () => { view.wlType = type.value; load(); } },
      el("option", { value: "", text: t("anyType") }));
    return el("div", { class: "toolbar" }, el("label", { for: "wl-status" }, t("statusLabel")), status, el("label", { for: "wl-type" }, t("consultationType")), type);
  }

  // loadWaitlist lists the entries the filters choose, in the order places
  // are offered (urgent first, then oldest).
  async function loadWaitlist(seq) {
    const [types] = await Promise.all([consultationTypes(), locations()]);
    const sel = /** @type {HTMLSelectElement} */ ($("wl-type"));
    if (!sel) return;
    if (sel.options.length !== types.length + 1) sel.append(...types.map((x) => el("option", { value: x.id, text: x.name })));
    sel.value = view.wlType;
    const q = new URLSearchParams({ limit: "200" });
    if (view.wlStatus) q.set("status", view.wlStatus);
    if (view.wlType) q.set("consultation_type_id", view.wlType);
    const r = await api("GET", "/v1/waitlist?" + q);
    if (seq !== loadSeq || view.screen !== "waitlist") return;
    if (!r.ok) { if (r.status !== 401) say(await problemDetail(r)); return; }
    const items = /** @type {S["WaitlistEntryList"]} */ (await r.json()).items;
    const ul = $("waitlist");
    // An open offer form survives a change elsewhere on the list.
    const open = ul.querySelector("form.reason");
    const openFor = /** @type {HTMLElement} */ (open && open.closest("[data-waitlist-id]"));
    keepFocus(ul, "data-waitlist-id", () => ul.replaceChildren(...(items.length ? items.map((w) => {
      const li = waitlistRow(w, types);
      if (openFor && openFor.dataset.waitlistId === w.id && openFor.dataset.status === w.status) li.insertBefore(open, li.querySelector(".problem"));
      return li;
    }) : [el("li", { class: "empty", text: t("noEntries") })])));
  }

  /** @param {Entry} w @param {CType[]} types */
  function waitlistRow(w, types) {
    const label = `wl-${w.id}`;
    const type = types.find((x) => x.id === w.consultation_type_id);
    const loc = view.locations.find((l) => l.id === w.location_id);
    const urgent = w.triage && w.triage.level === "urgent";
    const actions = [];
    if (w.status === "waiting") actions.push("offer");
    if (w.status === "waiting" || w.status === "offered") actions.push("remove");
    const li = el("li", { class: "booking", tabindex: "-1", "data-waitlist-id": w.id, "data-reference": w.reference, "data-status": w.status,
      "data-triage": urgent ? "urgent" : null, "aria-labelledby": label },
      el("div", { class: "when" }, el("time", { datetime: w.created_at, text: fmtWhen(w.created_at) })),
      el("div", {},
        el("div", {}, el("span", { class: "who", id: label, text: `${w.patient.first_name} ${w.patient.last_name}` }), " ",
          el("span", { class: "badge", "data-status-label": true, text: t("wlStatus")[w.status] || w.status }),
          urgent ? el("span", { class: "badge urgent", title: t("triageNote"), text: t("urgent") + (w.triage.rules && w.triage.rules.length ? ": " + w.triage.rules.join(", ") : "") }) : null),
        el("div", { class: "meta", text: [w.reference, w.patient.phone, type ? type.name : null, loc ? loc.name : null, t("source")[w.source] || w.source].filter(Boolean).join(" · ") }),
        el("div", { class: "meta", text: [t("dates").replace("{from}", w.earliest_date).replace("{to}", w.latest_date), w.times_of_day.map((x) => t("times")[x] || x).join(", ")].filter(Boolean).join(" · ") }),
        w.offer ? el("div", { class: "meta", "data-offer-slot": w.offer.slot_id, text: t("offerUntil").replace("{when}", fmtWhen(w.offer.start_at, w.offer.timezone)).replace("{until}", fmtWhen(w.offer.expires_at, w.offer.timezone)) }) : null),
      el("div", { class: "actions" }, actions.map((a) => el("button", { type: "button", "data-action": a, "aria-describedby": label, text: t(a), "aria-keyshortcuts": KEY_OF[a],
        onclick: () => (a === "offer" ? offerForm(w) : removeForm(w)) }))),
      el("p", { class: "problem", role: "alert" }));
    return li;
  }

  const entryEl = (id) => /** @type {HTMLElement} */ (document.querySelector(`li[data-waitlist-id="${CSS.escape(id)}"]`));

  // inlineForm puts a small form on a list item (one at a time), closed by
  // Escape or its Close button, which give the focus back to the action.
  function inlineForm(li, action, kids, onsubmit) {
    li.querySelector("form.reason")?.remove();
    const close = () => { form.remove(); li.querySelector(`[data-action="${action}"]`)?.focus(); };
    const form = el("form", { class: "reason", "data-reason-for": action }, kids,
      el("button", { type: "button", text: t("close"), onclick: close }));
    form.addEventListener("keydown", (ev) => { if (ev.key === "Escape") close(); });
    form.addEventListener("submit", (ev) => { ev.preventDefault(); onsubmit(form); });
    li.insertBefore(form, li.querySelector(".problem"));
    return form;
  }

  /** @param {Entry} w */
  function removeForm(w) {
    const li = entryEl(w.id);
    const form = inlineForm(li, "remove", [el("button", { type: "submit", "data-confirm": "remove", text: t("removeConfirm") })],
      () => waitlistAction(w, "DELETE", `/v1/waitlist/${encodeURIComponent(w.id)}`, undefined, t("removed")));
    form.querySelector("button").focus();
  }

  // offerForm offers the entry a time chosen by hand from the next free
  // times of its consultation type (at its location and provider, when it
  // named them): the website's times, not the desk's, since the patient
  // accepts the offer online, from its message, and needs the notice to
  // come.
  /** @param {Entry} w */
  async function offerForm(w) {
    const li = entryEl(w.id);
    const legend = `offer-${w.id}`;
    const choices = el("div", { class: "slots", role: "radiogroup", "aria-labelledby": legend });
    const form = inlineForm(li, "offer", [el("p", { class: "legend", id: legend, text: t("newTime") }), choices,
      el("button", { type: "submit", text: t("send") + ": " + t("offer") })], (f) => {
      const chosen = f.querySelector('input[name="slot_id"]:checked');
      if (chosen) waitlistAction(w, "POST", `/v1/waitlist/${encodeURIComponent(w.id)}/offer`, { slot_id: chosen.value }, t("offered"));
    });
    const q = new URLSearchParams({ consultation_type_id: w.consultation_type_id, limit: "8", locale: lang });
    if (w.location_id) q.set("location_id", w.location_id);
    if (w.provider_id) q.set("provider_id", w.provider_id);
    try {
      const r = await api("GET", "/v1/availability/next?" + q);
      if (!r.ok) { choices.append(el("p", { class: "error", text: await problemDetail(r) })); return; }
      const list = /** @type {S["NextAvailability"]} */ (await r.json()).slots;
      choices.append(...(list.length ? list.map((x) => slotChoice(x, Date.now())) : [el("p", { class: "empty", text: t("noSlots") })]));
      (form.querySelector('input[name="slot_id"]') || form.querySelector("button")).focus();
    } catch {
      choices.append(el("p", { class: "error", text: t("offline") }));
    }
  }

  /** @param {Entry} w */
  async function waitlistAction(w, method, path, body, done) {
    const li = entryEl(w.id);
    const buttons = li ? li.querySelectorAll("button") : [];
    buttons.forEach((x) => { x.disabled = true; });
    try {
      const r = await api(method, path, body);
      const cur = entryEl(w.id);
      if (!r.ok) {
        if (r.status !== 401 && cur) cur.querySelector(".problem").textContent = await problemDetail(r);
        return;
      }
      say(done.replace("{ref}", w.reference));
      cur?.querySelector("form.reason")?.remove();
      await load();
      const again = entryEl(w.id);
      if (again) again.focus(); else $("screen-title")?.focus();
    } catch {
      const cur = entryEl(w.id);
      if (cur) cur.querySelector(".problem").textContent = t("offline");
    } finally {
      buttons.forEach((x) => { x.disabled = false; });
    }
  }

  // changedMeanwhile answers a refused action (409, 412: another
  // receptionist acted first, the place was taken, the booking changed):
  // the booking is read again and redrawn as it is now, with the server's
  // reason next to it and the focus on it, so that the receptionist
  // chooses again; a move that lost its place offers the free times anew.
  /** @param {Booking} b */
  async function changedMeanwhile(li, b, action, detail) {
    let now = b;
    try {
      const r = await api("GET", `/v1/bookings/${encodeURIComponent(b.id)}`);
      if (r.ok) now = /** @type {Booking} */ (await r.json());
    } catch {
      // Shown as it was, with the reason.
    }
    const cur = rowOf(b.id, li);
    say(`${now.reference}: ${detail}`);
    if (!cur.isConnected) return;
    const fresh = bookingRow(now);
    fresh.dataset.changed = "true";
    fresh.querySelector(".problem").textContent = detail;
    cur.replaceWith(fresh);
    if (action === "reschedule" && fresh.querySelector('[data-action="reschedule"]')) await rescheduleForm(fresh, now);
    if (!fresh.contains(document.activeElement)) (fresh.querySelector("button[data-action]") || fresh).focus();
  }

  // ---------------------------------------------------------------- book a caller

  // The phone booking: a consultation type, one of the next free times,
  // the caller (matched against the patients on file as the number is
  // typed), the intake questions read out from the same form data as the
  // widget (only the red-flag question is required on the phone), and
  // the consent given by phone. The free times are the desk's
  // (window=staff): also those the website no longer offers, inside the
  // minimum notice or in a slot that has started (a walk-in), each marked.
  async function bookScreen(main) {
    const key = crypto.randomUUID(); // one booking per filled-in form, however often it is sent
    const [types, form, pol] = await Promise.all([api("GET", "/v1/consultation-types"), api("GET", "/v1/intake-form?locale=" + lang), api("GET", "/v1/booking-policy")]);
    const failed = [types, form, pol].find((r) => !r.ok);
    if (failed) { say(await problemDetail(failed)); return; }
    const typeList = /** @type {S["ConsultationTypeList"]} */ (await types.json()).items.filter((x) => x.active !== false);
    const intake = /** @type {S["IntakeForm"]} */ (await form.json());
    const policy = /** @type {S["BookingPolicy"]} */ (await pol.json());
    const locs = await locations();
    const field = (name, label, input, hint) => el("div", { class: "field", "data-field": name },
      el("label", { for: input.id }, label), input, hint || null, el("span", { class: "error", id: "err-" + input.id }));
    const typeSel = el("select", { id: "bk-type", name: "consultation_type_id" }, typeList.map((x) => el("option", { value: x.id, text: x.name })));
    const locSel = el("select", { id: "bk-loc", name: "location_id" }, el("option", { value: "", text: t("anyLocation") }), locs.map((l) => el("option", { value: l.id, text: l.name })));
    const slots = el("div", { class: "slots", id: "bk-slots", role: "radiogroup", "aria-labelledby": "bk-slots-legend" });
    const inputs = {
      first_name: el("input", { id: "bk-first", name: "patient.first_name", autocomplete: "off", required: true }),
      last_name: el("input", { id: "bk-last", name: "patient.last_name", autocomplete: "off", required: true }),
      date_of_birth: el("input", { id: "bk-dob", name: "patient.date_of_birth", type: "date", required: true }),
      phone: el("input", { id: "bk-phone", name: "patient.phone", type: "tel", autocomplete: "off", required: true, "aria-describedby": "bk-phone-hint" }),
      email: el("input", { id: "bk-email", name: "patient.email", type: "email", autocomplete: "off" }),
    };
    // The caller's language for their messages (the desk's own, to begin
    // with): the server never takes it from this browser's.
    const callerLang = el("select", { id: "bk-locale", name: "locale" },
      el("option", { value: "en", text: "English" }), el("option", { value: "es", text: "Español" }));
    callerLang.value = lang;
    const matchNote = el("div", { class: "match", role: "status" });
    const problem = el("p", { class: "error", role: "alert", id: "bk-problem" });
    let slotSeq = 0;
    const loadSlots = async () => {
      const seq = ++slotSeq;
      const q = new URLSearchParams({ window: "staff", consultation_type_id: typeSel.value, limit: "12", locale: lang });
      if (locSel.value) q.set("location_id", locSel.value);
      const r = await api("GET", "/v1/availability/next?" + q);
      if (seq !== slotSeq) return; // another type or location was chosen meanwhile
      if (!r.ok) { slots.replaceChildren(el("p", { class: "error", text: await problemDetail(r) })); return; }
      const list = /** @type {S["NextAvailability"]} */ (await r.json()).slots;
      const chosen = slots.querySelector('input[name="slot_id"]:checked'); // kept when still offered
      const now = Date.now();
      slots.replaceChildren(...(list.length ? list.map((x) => slotChoice(x, now, policy)) : [el("p", { class: "empty", text: t("noSlots") })]));
      const again = chosen && slots.querySelector(`input[name="slot_id"][value="${CSS.escape(chosen.value)}"]`);
      if (again) again.checked = true;
    };
    typeSel.addEventListener("change", loadSlots);
    locSel.addEventListener("change", loadSlots);
    let matchTimer = null;
    let matchSeq = 0;
    inputs.phone.addEventListener("input", () => {
      clearTimeout(matchTimer);
      matchTimer = setTimeout(async () => {
        const seq = ++matchSeq; // only the answer for the number as it is now is shown
        const digits = inputs.phone.value.replace(/\D/g, "");
        if (digits.length < 7) { matchNote.replaceChildren(); return; }
        const r = await api("GET", "/v1/patients?" + new URLSearchParams({ q: inputs.phone.value, limit: "3" }));
        if (!r.ok || seq !== matchSeq) return;
        const p = /** @type {S["PatientRecordList"]} */ (await r.json()).items[0];
        if (!p) { matchNote.replaceChildren(); return; }
        // The search answers each record's visits (how many, the last day).
        const v = p.visits || { count: 0, last_on: null };
        const visits = t(v.count === 1 ? "oneVisit" : "visits").replace("{n}", String(v.count)) + (v.last_on ? t("lastVisit").replace("{date}", v.last_on) : "");
        matchNote.replaceChildren(el("span", { text: t("match").replace("{name}", `${p.first_name} ${p.last_name}`).replace("{dob}", p.date_of_birth).replace("{visits}", visits) }), " ",
          el("button", { type: "button", "data-use-patient": p.id, text: t("useMatch"), onclick: () => {
            inputs.first_name.value = p.first_name; inputs.last_name.value = p.last_name; inputs.date_of_birth.value = p.date_of_birth;
            inputs.phone.value = p.phone;
            if (p.email) inputs.email.value = p.email;
          } }));
      }, 250);
    });
    const questions = intake.questions.map(question);
    const consent = {
      given_by_phone: el("input", { type: "checkbox", id: "bk-consent", name: "consent.given_by_phone", required: true }),
      contact_by_sms: el("input", { type: "checkbox", id: "bk-sms", name: "consent.contact_by_sms" }),
      contact_by_email: el("input", { type: "checkbox", id: "bk-emailok", name: "consent.contact_by_email" }),
    };
    const check = (input, label) => el("div", { class: "check", "data-field": input.name }, input, el("label", { for: input.id }, " " + label), el("span", { class: "error", id: "err-" + input.id }));
    const submit = el("button", { type: "submit", class: "primary", text: t("bookIt") });
    const f = el("form", { class: "book", novalidate: true, "aria-labelledby": "screen-title" },
      el("fieldset", {}, el("legend", { text: t("consultationType") }), field("consultation_type_id", t("consultationType"), typeSel), field("location_id", t("location"), locSel),
        el("p", { id: "bk-slots-legend", class: "legend", text: t("freeTimes") }), slots),
      el("fieldset", {}, el("legend", { text: t("caller") }), field("patient.phone", t("phone"), inputs.phone, el("span", { class: "meta", id: "bk-phone-hint", text: t("phoneHint") })), matchNote,
        field("patient.first_name", t("firstName"), inputs.first_name), field("patient.last_name", t("lastName"), inputs.last_name),
        field("patient.date_of_birth", t("dob"), inputs.date_of_birth), field("patient.email", t("emailOpt"), inputs.email),
        field("locale", t("callerLang"), callerLang)),
      el("fieldset", {}, el("legend", { text: t("intake") }), questions.map((q) => q.node)),
      el("fieldset", {}, el("legend", { text: t("consent") }), check(consent.given_by_phone, t("givenByPhone")), check(consent.contact_by_sms, t("bySMS")), check(consent.contact_by_email, t("byEmail"))),
      problem, submit);
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      f.querySelectorAll(".error").forEach((x) => { x.textContent = ""; });
      f.querySelectorAll("[aria-invalid]").forEach((x) => x.removeAttribute("aria-invalid"));
      const slot = f.querySelector('input[name="slot_id"]:checked');
      if (!slot) { problem.textContent = t("chooseTime"); return; }
      const answers = {};
      for (const q of questions) { const v = q.value(); if (v !== undefined) answers[q.name] = v; }
      const patient = { first_name: inputs.first_name.value.trim(), last_name: inputs.last_name.value.trim(), date_of_birth: inputs.date_of_birth.value, phone: inputs.phone.value.trim() };
      if (inputs.email.value.trim()) patient.email = inputs.email.value.trim();
      const body = { slot_id: slot.value, patient, intake: answers, consent: {}, locale: /** @type {"en" | "es"} */ (callerLang.value) };
      for (const [k, input] of Object.entries(consent)) if (input.checked) body.consent[k] = true;
      submit.disabled = true;
      try {
        const r = await api("POST", "/v1/bookings", body, { headers: { "Idempotency-Key": key } });
        if (r.status === 201) {
          const b = /** @type {Booking} */ (await r.json());
          say(t("booked").replace("{ref}", b.reference));
          go("find", "q=" + encodeURIComponent(b.reference));
          return;
        }
        const p = /** @type {S["Problem"] & S["TriageRefusal"]} */ (await r.json().catch(() => ({})));
        problem.textContent = (p.triage && p.triage.message) || p.detail || String(r.status);
        let first = null;
        for (const fe of p.errors || []) {
          const box = f.querySelector(`[data-field="${CSS.escape(fe.field)}"]`);
          if (!box) continue;
          const msg = box.querySelector(".error");
          if (msg) msg.textContent = fe.message;
          const input = box.querySelector("input, select, textarea");
          if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
        }
        (first || problem).focus();
      } catch {
        problem.textContent = t("offline");
      } finally {
        submit.disabled = false;
      }
    });
    main.append(f);
    await loadSlots();
  }

  // question renders one intake question from the form's data; value()
  // is its answer, or undefined when the caller gave none.
  /** @param {Question} q */
  function question(q) {
    const name = q.field.replace(/^intake\./, "");
    const id = "bk-" + name;
    const err = el("span", { class: "error", id: "err-" + id });
    const label = q.label;
    if (q.type === "multi_choice" || q.type === "single_choice" || q.type === "boolean") {
      const options = q.type === "boolean" ? [{ value: "true", label: t("yes") }, { value: "false", label: t("no") }] : q.options;
      const type = q.type === "multi_choice" ? "checkbox" : "radio";
      const boxes = options.map((o, i) => el("div", { class: "check" },
        el("input", { type, id: `${id}-${i}`, name: q.field, value: String(o.value) }), el("label", { for: `${id}-${i}` }, " " + o.label)));
      const node = el("fieldset", { class: "question", "data-field": q.field }, el("legend", { text: label }), q.help ? el("p", { class: "meta", text: q.help }) : null, boxes, err);
      if (q.exclusive_option) {
        node.addEventListener("change", (ev) => {
          if (!ev.target.checked) return;
          node.querySelectorAll("input").forEach((x) => {
            if (x !== ev.target && (ev.target.value === q.exclusive_option || x.value === q.exclusive_option)) x.checked = false;
          });
        });
      }
      return { name, node, value: () => {
        const on = [...node.querySelectorAll("input:checked")].map((x) => x.value);
        if (type === "checkbox") return on.length ? on : undefined;
        if (!on.length) return undefined;
        return q.type === "boolean" ? on[0] === "true" : on[0];
      } };
    }
    let input;
    if (q.type === "scale") input = el("input", { type: "number", id, name: q.field, min: String(q.min ?? 0), max: String(q.max ?? 10), inputmode: "numeric" });
    else if (q.type === "date") input = el("input", { type: "date", id, name: q.field });
    else input = el("textarea", { id, name: q.field, rows: "2", maxlength: q.max_length ? String(q.max_length) : null });
    const node = el("div", { class: "field question", "data-field": q.field }, el("label", { for: id }, label), q.help ? el("p", { class: "meta", text: q.help }) : null, input, err);
    return { name, node, value: () => {
      const v = input.value.trim();
      if (v === "") return undefined;
      return q.type === "scale" ? Number(v) : v;
    } };
  }

  // ---------------------------------------------------------------- keyboard

  // The shortcuts (listed by `?`, and in the README): `g` and then a
  // letter goes to a screen; on a row (focused, or one of its buttons),
  // one letter takes one of its actions. An action with a form (decline,
  // cancel, revert, reschedule, offer, remove) only opens it, and the two
  // that act at once and last (complete cannot be undone, a no-show only
  // by a revert with a reason) only take the focus to their button: Enter
  // is the confirm step. None fires while typing, or with Ctrl, Alt or
  // Meta (the browser's own shortcuts).
  const GO_KEYS = { t: "today", r: "requests", b: "book", f: "find", m: "messages", w: "waitlist" };
  const ROW_KEYS = { c: ["confirm"], i: ["check-in"], d: ["decline"], x: ["cancel", "remove"], r: ["reschedule", "retry"], u: ["revert"], o: ["offer"],
    e: ["complete"], n: ["no-show"] };
  const FOCUS_ONLY = ["complete", "no-show"];
  const KEY_OF = Object.fromEntries(Object.entries(ROW_KEYS).flatMap(([k, acts]) => acts.map((a) => [a, k])));
  const ROWS = "main li[data-booking-id], main li[data-message-id], main li[data-waitlist-id], main li[data-patient-id]";
  const GO_WITHIN = 1500; // ms between `g` and its letter
  let goPressed = 0;

  // typing is whether the element takes typed letters (a choice, a
  // checkbox or a button does not).
  /** @param {Element} x */
  function typing(x) {
    if (!x) return false;
    const h = /** @type {HTMLElement} */ (x);
    if (h.isContentEditable || x.tagName === "TEXTAREA" || x.tagName === "SELECT") return true;
    return x.tagName === "INPUT" && !["radio", "checkbox", "button", "submit", "reset"].includes(/** @type {HTMLInputElement} */ (x).type);
  }

  // moveRow puts the focus on the row d rows after row (the first one
  // when there is no row), as the screen shows them.
  /** @param {Element | null} row @param {number} d */
  function moveRow(row, d) {
    const rows = /** @type {HTMLElement[]} */ ([...document.querySelectorAll(ROWS)]).filter((x) => x.getClientRects().length > 0);
    const next = row ? rows[rows.indexOf(/** @type {HTMLElement} */ (row)) + d] : rows[0];
    if (!next) return false;
    if (!next.hasAttribute("tabindex")) next.tabIndex = -1;
    next.focus();
    next.scrollIntoView({ block: "nearest" });
    return true;
  }

  /** @param {KeyboardEvent} ev */
  function onKey(ev) {
    if (!session.token || ev.ctrlKey || ev.metaKey || ev.altKey || ev.defaultPrevented || $("keys")) return;
    const a = /** @type {HTMLElement} */ (document.activeElement);
    if (ev.key === "ArrowDown" && a === $("q")) {
      if (moveRow(null, 1)) ev.preventDefault();
      return;
    }
    if (typing(a)) return;
    const go2 = Date.now() - goPressed < GO_WITHIN;
    goPressed = 0;
    if (go2 && GO_KEYS[ev.key]) {
      const screen = GO_KEYS[ev.key];
      if (FRONT_DESK_SCREENS.includes(screen) && !frontDesk()) return;
      ev.preventDefault();
      go(screen);
      return;
    }
    if (ev.key === "g") { goPressed = Date.now(); return; }
    if (ev.key === "/") {
      ev.preventDefault();
      $("q").focus();
      /** @type {HTMLInputElement} */ ($("q")).select();
      return;
    }
    if (ev.key === "?") { ev.preventDefault(); showKeys(); return; }
    const row = a && a.closest(ROWS);
    const down = ev.key === "ArrowDown" || ev.key === "j";
    // From the screen's heading (where a screen puts the focus) or from
    // nowhere, down is the first row.
    if (!row && down && (!a || a === document.body || a === $("main") || a.id === "screen-title")) {
      if (moveRow(null, 1)) ev.preventDefault();
      return;
    }
    // Inside a row's form (a reason, a time to choose), keys are the form's.
    if (!row || a.closest("form")) return;
    if (down || ev.key === "ArrowUp" || ev.key === "k") {
      if (moveRow(row, down ? 1 : -1)) ev.preventDefault();
      return;
    }
    if (ev.key === "p") {
      const link = /** @type {HTMLElement} */ (row.querySelector("[data-patient-link]"));
      if (link) { ev.preventDefault(); link.click(); }
      return;
    }
    const acts = ROW_KEYS[ev.key];
    if (!acts) return;
    ev.preventDefault();
    const button = /** @type {HTMLButtonElement} */ (acts.map((x) => row.querySelector(`.actions [data-action="${x}"]`)).find(Boolean));
    if (!button || button.disabled) { say(t("keysNotHere")); return; }
    if (FOCUS_ONLY.includes(button.dataset.action)) {
      button.focus();
      say(t("keysPressEnter").replace("{action}", button.textContent));
      return;
    }
    button.click();
  }

  // keyNames shows "g t" (g, then t) as two keys side by side, and "↓|j"
  // (either) as two keys with a slash between.
  /** @param {string} keys */
  const keyNames = (keys) => keys.split("|").flatMap((alt, i) => [i ? " / " : null,
    ...alt.split(" ").flatMap((k, j) => [j ? " " : null, el("kbd", { text: k })])]);

  // showKeys opens the list of shortcuts: a modal dialog (the page behind
  // it inert), the focus kept in it, closed by Escape or its button, the
  // focus then back where it was.
  function showKeys() {
    const back = /** @type {HTMLElement} */ (document.activeElement);
    const table = (id, caption, rows) => el("table", { class: "keys", "aria-labelledby": id },
      el("caption", { id, text: caption }),
      el("tbody", {}, rows.map(([keys, what]) => el("tr", {},
        el("th", { scope: "row" }, keyNames(keys)), el("td", { text: what })))));
    const close = el("button", { type: "button", class: "primary", "data-close": true, text: t("close") });
    const dlg = /** @type {HTMLDialogElement} */ (el("dialog", { id: "keys", "aria-labelledby": "keys-title" },
      el("h2", { id: "keys-title", text: t("keysTitle") }),
      table("keys-anywhere", t("keysAnywhere"), t("keys")), table("keys-row", t("keysOnRow"), t("rowKeys")), close));
    close.addEventListener("click", () => dlg.close());
    dlg.addEventListener("keydown", (ev) => {
      if (ev.key !== "Tab") return;
      // The browser would let Tab leave for its own toolbar: keep it here.
      const stops = /** @type {HTMLElement[]} */ ([...dlg.querySelectorAll("button, a[href], [tabindex]:not([tabindex='-1'])")]);
      const i = stops.indexOf(/** @type {HTMLElement} */ (document.activeElement));
      ev.preventDefault();
      stops[(i + (ev.shiftKey ? -1 : 1) + stops.length) % stops.length].focus();
    });
    dlg.addEventListener("close", () => {
      dlg.remove();
      (back && back.isConnected && back !== document.body ? back : $("main")).focus();
    });
    document.body.append(dlg);
    dlg.showModal();
    close.focus();
  }

  // ---------------------------------------------------------------- page chrome

  function applyLanguage() {
    document.documentElement.lang = lang;
    /** @type {HTMLSelectElement} */ ($("lang")).value = lang;
    $("brand").textContent = t("title");
    $("nav").setAttribute("aria-label", t("screens"));
    $("q-label").textContent = t("search");
    $("q").setAttribute("placeholder", t("searchHint"));
    $("signout").textContent = t("signOut");
    $("keys-open").textContent = t("keysTitle");
    $("lang-label").textContent = t("language");
    document.querySelector(".skip").textContent = t("skip");
    document.title = t("title");
  }

  let searchTimer = null;
  function init() {
    applyLanguage();
    $("lang").addEventListener("change", () => {
      lang = /** @type {HTMLSelectElement} */ ($("lang")).value;
      applyLanguage();
      if (session.token) route(false);
      else showSignIn("");
    });
    $("signout").addEventListener("click", signOut);
    $("keys-open").addEventListener("click", showKeys);
    $("search").addEventListener("submit", (ev) => ev.preventDefault());
    $("q").addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => {
        const q = /** @type {HTMLInputElement} */ ($("q")).value;
        const query = q.trim() ? "q=" + encodeURIComponent(q) : "";
        if (view.screen !== "find") { history.pushState(null, "", "/desk/find" + (query ? "?" + query : "")); route(false); return; }
        history.replaceState(null, "", "/desk/find" + (query ? "?" + query : ""));
        view.q = q;
        load();
      }, 200);
    });
    document.addEventListener("keydown", onKey);
    window.addEventListener("popstate", () => { if (session.token) route(true); });
    // Silent sign-in: a reload or a second tab has the refresh cookie.
    refresh().then((ok) => (ok ? signedIn() : showSignIn("")));
  }

  init();
})();
