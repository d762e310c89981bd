// The assistant chat page of the sandbox. Signs in through the dev authorisation server (authorization
// code flow with PKCE, public client demo-app) and calls the contract's assistant operations. Every text
// from the server is inserted with textContent, never as HTML. No request leaves this origin.
"use strict";

(function () {
  const API = "/api/v1";
  const CLIENT_ID = "demo-app";
  const REDIRECT_URI = "/assistant-chat"; // same-origin path: the dev server accepts it
  const SCOPES = "assistant accounts:read transactions:read cards:read cards:write profile:read";
  // what the confirm and cancel buttons send, and their names (the proposal's text names the button)
  const CONFIRM = { "ru-RU": "Да", "en-US": "Yes" };
  const CANCEL = { "ru-RU": "Нет", "en-US": "No" };
  const CONFIRM_BUTTON = { "ru-RU": "Подтвердить", "en-US": "Confirm" };
  const CANCEL_BUTTON = { "ru-RU": "Отменить", "en-US": "Cancel" };
  const LANG = { "ru-RU": "ru", "en-US": "en" };
  const ACTIONS = { lock_card: "lock the card", unlock_card: "unlock the card" };
  const BALANCE_TYPES = {
    ITAV: "available balance",
    ITBD: "booked balance",
    CLBD: "closing booked balance",
    OPBD: "opening booked balance",
  };
  const KEY = { token: "chat.token", verifier: "chat.verifier", state: "chat.state" };

  const $ = (id) => document.getElementById(id);
  let conversation = null;

  // --- errors in words -------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  function problemInWords(status, body) {
    // RFC 9457 problem details (the sandbox adds code, correlation_id and errors) or RFC 6749 errors
    if (body && typeof body === "object") {
      if (body.error && !body.title) {
        return `Sign-in refused (${body.error}): ${body.error_description || "no description"}.`;
      }
      const parts = [body.title || `HTTP ${status}`];
      if (body.detail) parts.push(body.detail);
      let words = parts.join(": ");
      if (Array.isArray(body.errors) && body.errors.length) {
        const fields = body.errors.map((e) => `${e.pointer ? e.pointer + ": " : ""}${e.detail || e.code || ""}`);
        words += ` ${fields.join("; ")}.`;
      }
      const tags = [`HTTP ${status}`];
      if (body.code) tags.push(`code ${body.code}`);
      if (body.correlation_id) tags.push(`correlation id ${body.correlation_id}`);
      return `${words} (${tags.join(", ")})`;
    }
    return `The sandbox answered HTTP ${status} without an explanation.`;
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = false;
  }

  function clearError() {
    const box = $("error");
    box.textContent = "";
    box.hidden = true;
  }

  async function request(method, path, options) {
    const headers = { Accept: "application/json, application/problem+json" };
    let body;
    if (options && options.form) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(options.form).toString();
    } else if (options && options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    const token = sessionStorage.getItem(KEY.token);
    if (token && !(options && options.form)) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(API + path, { method, headers, body, credentials: "omit", cache: "no-store" });
    } catch (err) {
      throw new ApiError(`The sandbox did not answer (${err.message}). Is it still running?`, 0);
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (err) {
      data = null;
    }
    if (!response.ok) {
      if (response.status === 401 && !(options && options.form)) forgetToken();
      throw new ApiError(problemInWords(response.status, data), response.status);
    }
    return { status: response.status, data };
  }

  // --- sign-in: authorization code flow with PKCE (RFC 7636, S256) -----------------------------------

  function base64url(bytes) {
    let binary = "";
    bytes.forEach((b) => {
      binary += String.fromCharCode(b);
    });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomString(size) {
    const bytes = new Uint8Array(size);
    crypto.getRandomValues(bytes);
    return base64url(bytes);
  }

  async function signIn() {
    clearError();
    if (!window.crypto || !crypto.subtle) {
      showError("This browser offers no Web Crypto here (it needs http://127.0.0.1 or localhost), so PKCE cannot be used.");
      return;
    }
    const verifier = randomString(32);
    const state = randomString(16);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    sessionStorage.setItem(KEY.verifier, verifier);
    sessionStorage.setItem(KEY.state, state);
    const query = new URLSearchParams({
      response_type: "code",
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: SCOPES,
      state,
      code_challenge: base64url(new Uint8Array(digest)),
      code_challenge_method: "S256",
    });
    window.location.assign(`${API}/oauth/authorize?${query}`);
  }

  async function finishSignIn(params) {
    const expected = sessionStorage.getItem(KEY.state);
    const verifier = sessionStorage.getItem(KEY.verifier);
    sessionStorage.removeItem(KEY.state);
    sessionStorage.removeItem(KEY.verifier);
    window.history.replaceState(null, "", REDIRECT_URI); // the code must not stay in the address bar
    if (params.get("error")) {
      throw new ApiError(`Sign-in refused (${params.get("error")}): ${params.get("error_description") || ""}`, 400);
    }
    if (!expected || params.get("state") !== expected || !verifier) {
      throw new ApiError("Sign-in answer does not match a sign-in started on this page (state differs); sign in again.", 400);
    }
    const { data } = await request("POST", "/oauth/token", {
      form: {
        grant_type: "authorization_code",
        code: params.get("code"),
        redirect_uri: REDIRECT_URI,
        client_id: CLIENT_ID,
        code_verifier: verifier,
      },
    });
    sessionStorage.setItem(KEY.token, data.access_token);
  }

  function forgetToken() {
    sessionStorage.removeItem(KEY.token);
    conversation = null;
    render();
  }

  async function showWho() {
    if (!sessionStorage.getItem(KEY.token)) return;
    try {
      const { data } = await request("GET", "/customers/me");
      $("who").textContent = `Signed in as ${data.full_name} (demo customer).`;
    } catch (err) {
      showError(err.message);
    }
  }

  // --- the conversation ------------------------------------------------------------------------------

  function render() {
    const signedIn = Boolean(sessionStorage.getItem(KEY.token));
    const open = signedIn && conversation !== null;
    $("sign-in-button").hidden = signedIn;
    $("sign-out-button").hidden = !signedIn;
    if (!signedIn) $("who").textContent = "Not signed in.";
    $("start-button").disabled = !signedIn;
    $("message-text").disabled = !open;
    $("send-button").disabled = !open;
    $("handoff-button").disabled = !open;
    document.querySelectorAll("button.example").forEach((b) => {
      b.disabled = !open;
    });
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function money(m) {
    return m ? `${m.amount} ${m.currency}` : "";
  }

  function factDetails(fact) {
    const details = [`account ${fact.account_id}`];
    if (fact.balance_type) details.push(`${fact.balance_type} (${BALANCE_TYPES[fact.balance_type] || "balance"})`);
    if (fact.transaction_id) details.push(`transaction ${fact.transaction_id}`);
    if (fact.booking_date_time) details.push(`booked ${fact.booking_date_time}`);
    if (fact.booked_from || fact.booked_to) details.push(`booked from ${fact.booked_from || "?"} to ${fact.booked_to || "?"} (exclusive)`);
    return details.join("; ");
  }

  function factsTable(facts) {
    const table = element("table", "facts");
    table.appendChild(element("caption", "", "Facts behind the figures"));
    const head = table.createTHead().insertRow();
    ["Value", "Kind", "Read from operation", "Details"].forEach((name) => {
      const th = element("th", "", name);
      th.scope = "col";
      head.appendChild(th);
    });
    const body = table.createTBody();
    facts.forEach((fact) => {
      const row = body.insertRow();
      row.className = "fact";
      [
        ["fact-value", money(fact.money)],
        ["fact-kind", fact.kind],
        ["fact-operation", fact.source_operation],
        ["fact-details", factDetails(fact)],
      ].forEach(([cls, text]) => {
        const cell = row.insertCell();
        cell.className = cls;
        cell.textContent = text;
      });
    });
    return table;
  }

  function proposalBox(message) {
    const action = message.proposed_action;
    const box = element("div", "proposal");
    box.appendChild(
      element("p", "", `Proposed action: ${ACTIONS[action.action] || action.action} (card ${action.card_id}). It runs only if you confirm.`)
    );
    const confirm = element("button", "confirm", CONFIRM_BUTTON[conversation.locale]);
    confirm.type = "button";
    const cancel = element("button", "cancel", CANCEL_BUTTON[conversation.locale]);
    cancel.type = "button";
    const answer = (text) => {
      confirm.disabled = true;
      cancel.disabled = true;
      send(text, message.message_id).then((ok) => {
        if (!ok) {
          confirm.disabled = false;
          cancel.disabled = false;
        }
      });
    };
    confirm.addEventListener("click", () => answer(CONFIRM[conversation.locale]));
    cancel.addEventListener("click", () => answer(CANCEL[conversation.locale]));
    box.append(confirm, " ", cancel);
    return box;
  }

  function addMessage(message) {
    const item = element("li", `message ${message.role}`);
    item.lang = LANG[conversation.locale];
    item.dataset.messageId = message.message_id;
    const meta = element("p", "meta");
    const who = { customer: "You", assistant: "Assistant", agent: "Support agent" }[message.role] || message.role;
    meta.appendChild(element("span", "who", who));
    if (!message.local) {
      // the label the server sent: the reply's ai_generated flag
      meta.appendChild(
        element("span", message.ai_generated ? "label ai" : "label human", message.ai_generated ? "AI-generated" : "written by a person")
      );
    }
    if (message.intent) meta.appendChild(element("span", "intent", `intent: ${message.intent}`));
    if (message.created_at) {
      const time = element("time", "", message.created_at);
      time.dateTime = message.created_at;
      meta.appendChild(time);
    }
    item.appendChild(meta);
    item.appendChild(element("p", "text", message.text));
    if (message.confirmation_for) {
      item.appendChild(element("p", "hint", `Answers the proposal ${message.confirmation_for}.`));
    }
    if (message.role === "assistant") {
      if (message.facts && message.facts.length) {
        item.appendChild(factsTable(message.facts));
      } else {
        item.appendChild(element("p", "no-facts hint", "This reply states no figure (facts: none)."));
      }
    }
    if (message.proposed_action) item.appendChild(proposalBox(message));
    $("transcript").appendChild(item);
    item.scrollIntoView({ block: "nearest" });
  }

  async function start(locale) {
    clearError();
    $("handoff-status").textContent = "";
    try {
      const { data } = await request("POST", "/assistant/conversations", { json: { channel: "web", locale } });
      conversation = data;
      $("transcript").replaceChildren();
      $("conversation-info").textContent =
        `Conversation ${data.conversation_id} in ${data.locale}, status ${data.status}, started ${data.started_at}.`;
      const disclosure = element("li", "message disclosure");
      disclosure.lang = LANG[data.locale];
      disclosure.appendChild(element("p", "meta", "AI disclosure (shown before the first message)"));
      disclosure.appendChild(element("p", "text", data.ai_disclosure));
      $("transcript").appendChild(disclosure);
      render();
      $("message-text").focus();
    } catch (err) {
      showError(err.message);
    }
  }

  async function send(text, confirmationFor) {
    clearError();
    const body = { text };
    if (confirmationFor) body.confirmation_for = confirmationFor;
    $("busy").textContent = "The assistant is answering…";
    try {
      const path = `/assistant/conversations/${conversation.conversation_id}/messages`;
      const { data } = await request("POST", path, { json: body });
      // the customer's own message as sent (the operation answers with the reply only)
      addMessage({ local: true, message_id: "", role: "customer", text, confirmation_for: confirmationFor });
      addMessage(data);
      return true;
    } catch (err) {
      showError(err.message);
      return false;
    } finally {
      $("busy").textContent = "";
    }
  }

  async function handoff() {
    clearError();
    try {
      const path = `/assistant/conversations/${conversation.conversation_id}/handoff`;
      const { status, data } = await request("POST", path, { json: { reason: "customer_request" } });
      const parts = [
        status === 200 ? "This conversation was already handed off to a person." : "Handed off to a person.",
        `Status: ${data.status}.`,
        `${data.transcript_message_count} transcript messages passed to the agent.`,
      ];
      if (data.estimated_wait_seconds !== undefined) parts.push(`Estimated wait: ${data.estimated_wait_seconds} s.`);
      parts.push(`Handoff ${data.handoff_id}, requested ${data.requested_at}.`);
      $("handoff-status").textContent = parts.join(" ");
    } catch (err) {
      showError(err.message);
    }
  }

  // --- wiring ----------------------------------------------------------------------------------------

  async function init() {
    $("sign-in-button").addEventListener("click", () => signIn().catch((err) => showError(err.message)));
    $("sign-out-button").addEventListener("click", () => {
      clearError();
      forgetToken();
    });
    $("start-form").addEventListener("submit", (event) => {
      event.preventDefault();
      start(new FormData(event.target).get("locale"));
    });
    $("message-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = $("message-text");
      const text = input.value.trim();
      if (!text) return;
      if (await send(text, null)) input.value = "";
      input.focus();
    });
    document.querySelectorAll("button.example").forEach((b) => {
      b.addEventListener("click", () => send(b.dataset.text, null));
    });
    $("handoff-button").addEventListener("click", handoff);
    const params = new URLSearchParams(window.location.search);
    try {
      if (params.has("code") || params.has("error")) await finishSignIn(params);
    } catch (err) {
      showError(err.message);
    }
    render();
    await showWho();
  }

  document.addEventListener("DOMContentLoaded", init);
})();
