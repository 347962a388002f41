// Security info: add a passkey the way Entra's page does, against the emulator's Graph API.
// Every outcome is announced (status or alert) and left in window.pkconfLastDecision, so a test
// can read what the emulator decided without scraping text. `window.pkconfStartOver(url)` shows
// another session's Security info in place (no navigation) and drops any unfinished attempt;
// `window.pkconfRegister(where, provider)` runs an attempt from its registration step, as if the
// dialogs had been answered so (a test that is not about the dialogs skips their clicks).
"use strict";

// "Where do you want to create your passkey?" -> the WebAuthn hints for that choice.
const PLACES = {
  "this-device": { attachment: "platform", hints: ["client-device"], name: "Passkey on this device" },
  "phone": { attachment: "cross-platform", hints: ["hybrid"], name: "Passkey on a phone or tablet" },
  "security-key": { attachment: "cross-platform", hints: ["security-key"], name: "Passkey on a security key" },
};
const METHODS = "/v1.0/me/authentication/fido2Methods";
const SESSION_META = 'meta[name="pkconf-session"]';
const STEP_UP_META = 'meta[name="pkconf-step-up"]';
let token = document.querySelector(SESSION_META).content;
// Aborted when the page starts over: attempts begun before then neither announce nor post.
let attempts = new AbortController();
window.pkconfLastDecision = null;

const query = () => new URLSearchParams(location.search);

const byId = (id) => document.getElementById(id);

function announce(text) {
  byId("status").textContent = text;
}

function fail(title, decision) {
  window.pkconfLastDecision = decision;
  announce("");
  const alert = byId("alert");
  const rows = [["Family", decision.family ?? "none"], ["Reason", decision.reason],
                ["Detail", decision.detail]];
  const list = document.createElement("dl");
  for (const [term, value] of rows) {
    list.append(Object.assign(document.createElement("dt"), { textContent: term }),
                Object.assign(document.createElement("dd"), { textContent: value }));
  }
  alert.replaceChildren(Object.assign(document.createElement("strong"), { textContent: title }), list);
}

// Opens a modal dialog and resolves with its form's data, or null when cancelled.
function ask(dialogId) {
  const dialog = byId(dialogId);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "next" ? new FormData(dialog.querySelector("form")) : null);
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    dialog.querySelector("select, input:checked, button[value=next]").focus();
  });
}

async function call(signal, method, url, body) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method, headers, body: body && JSON.stringify(body), signal });
  return { status: response.status, json: await response.json() };
}

// A Graph error envelope as a decision: the emulator's own when it refused the credential.
function graphFailure({ status, json }) {
  const error = json.error ?? {};
  return error.innerError?.pkconfDecision ?? {
    outcome: "graph-error", family: null, reason: error.code ?? `HTTP ${status}`,
    detail: error.message ?? "", status,
  };
}

function bytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

// Graph's creationOptions (binary fields in base64url) as navigator.credentials.create() wants them.
function publicKeyOptions(options, place) {
  const timeout = Number(query().get("timeout")) || options.timeout;
  return {
    ...options,
    timeout,
    challenge: bytes(options.challenge),
    user: { ...options.user, id: bytes(options.user.id) },
    excludeCredentials: options.excludeCredentials.map((c) => ({ ...c, id: bytes(c.id) })),
    authenticatorSelection: { ...options.authenticatorSelection, authenticatorAttachment: place.attachment },
    hints: place.hints,
  };
}

// Headless Chromium never settles create() without an authenticator: abort at the timeout
// (or when the page starts over).
function create(signal, publicKey) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), publicKey.timeout);
  return navigator.credentials.create({ publicKey, signal: AbortSignal.any([signal, controller.signal]) })
    .finally(() => clearTimeout(timer));
}

// Whether the session needs a step-up now (MFA over five minutes old, or none).
async function stepUpRequired(signal) {
  const check = await fetch("/security-info/step-up", { signal });
  return (await check.json()).required;
}

// Steps up if `required`, once `approve` resolves true (false: the user cancelled, and this is
// null). The approval is a fresh MFA session, whose token the page uses from then on.
async function stepUp(signal, required, approve) {
  if (!required) return false;
  if (!(await approve())) return null;
  const answer = await fetch("/security-info/step-up", { method: "POST", signal });
  token = (await answer.json()).token;
  return true;
}

function begin() {
  window.pkconfLastDecision = null;
  byId("alert").replaceChildren();
}

// The attempt's fetches and create() take its signal, so a start over rejects whatever is still
// pending; the caller drops that rejection instead of announcing it.
async function addPasskey(signal) {
  begin();
  if (!(await ask("add-dialog"))) return;
  const required = await stepUpRequired(signal);
  if ((await stepUp(signal, required, () => ask("step-up-dialog"))) === null) return;
  const where = await ask("where-dialog");
  if (!where) return;
  let provider = null;
  if (query().get("providerChooser") === "1") {
    const chosen = await ask("provider-dialog");
    if (!chosen) return;
    provider = chosen.get("provider");
  }
  await register(signal, PLACES[where.get("where")], provider);
}

// The registration step: creationOptions, create() for the chosen place, the POST, the outcome.
async function register(signal, place, provider) {
  const displayName = provider === null ? place.name : `Passkey in ${provider}`;
  announce("Getting ready to create your passkey…");
  const options = await call(signal, "GET", `${METHODS}/creationOptions`);
  if (options.status !== 200) return fail("We couldn't add your passkey", graphFailure(options));
  announce("Follow the instructions on your device…");
  let credential;
  try {
    credential = await create(signal, publicKeyOptions(options.json.publicKey, place));
  } catch (error) {
    signal.throwIfAborted(); // the page started over: not this create()'s outcome to announce
    return fail("Your device couldn't create the passkey", {
      outcome: "client-error", family: "client", reason: error.name, detail: error.message,
    });
  }
  const answer = await call(signal, "POST", METHODS, { displayName, publicKeyCredential: credential.toJSON() });
  if (answer.status !== 201) return fail("We couldn't add your passkey", graphFailure(answer));
  window.pkconfLastDecision = answer.json["@pkconf.decision"];
  byId("methods").append(Object.assign(document.createElement("li"), {
    textContent: answer.json.displayName ?? "Passkey",
  }));
  announce("Passkey added");
}

// An attempt's unexpected failure is announced, unless the page started over meanwhile.
function unlessStartedOver(signal, error) {
  if (!signal.aborted) {
    fail("We couldn't add your passkey", {
      outcome: "client-error", family: "client", reason: error.name, detail: error.message,
    });
  }
}

// Delegated, so that the button still works once a start over has replaced it.
document.addEventListener("click", (event) => {
  if (!event.target.closest("#add-method")) return;
  const { signal } = attempts;
  addPasskey(signal).catch((error) => unlessStartedOver(signal, error));
});

// An attempt from its registration step, the dialogs' answers given: `where` "this-device",
// "phone" or "security-key", `provider` the provider dialog's choice or null. A session that
// needed a step-up when the page was served (its pkconf-step-up meta) is stepped up as "I
// approved it" would. Resolves once the outcome is announced, with whether it stepped up.
window.pkconfRegister = async (where, provider) => {
  const place = PLACES[where];
  if (!place) throw new TypeError(`unknown place ${where}`);
  const { signal } = attempts;
  begin();
  try {
    const required = document.querySelector(STEP_UP_META).content === "required";
    const steppedUp = await stepUp(signal, required, async () => true);
    await register(signal, place, provider);
    return steppedUp;
  } catch (error) {
    unlessStartedOver(signal, error);
    return false;
  }
};

// Another session's Security info in place of this one, as navigating to `url` would show it,
// without reloading the page (a test run reuses one page for many cases). Resolves false,
// changing nothing, when `url` does not give this page (e.g. no session: the sign-in page).
window.pkconfStartOver = async (url) => {
  attempts.abort();
  attempts = new AbortController();
  const response = await fetch(url);
  if (!response.ok || new URL(response.url).pathname !== location.pathname) return false;
  const next = new DOMParser().parseFromString(await response.text(), "text/html");
  token = next.querySelector(SESSION_META).content;
  document.querySelector(SESSION_META).content = token;
  document.querySelector(STEP_UP_META).content = next.querySelector(STEP_UP_META).content;
  document.querySelector("main").replaceWith(next.querySelector("main"));
  if (response.url !== location.href) history.replaceState(null, "", response.url);
  window.pkconfLastDecision = null;
  return true;
};
