// tantalio pages: small vanilla helpers; the grid, detail and series pages add their own parts.
"use strict";

const tantalio = (() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  async function api(method, url, body) {
    const opts = { method, headers: { "X-CSRF-Token": csrf(), "Accept": "application/json" }, credentials: "same-origin" };
    if (body instanceof FormData) opts.body = body;
    else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    const res = await fetch(url, opts);
    const data = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    if (!res.ok) {
      const msg = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : res.statusText;
      const err = new Error(msg); err.status = res.status; throw err;
    }
    return data;
  }

  function toast(text, bad) {
    let el = document.getElementById("toast");
    if (!el) { el = document.createElement("div"); el.id = "toast"; document.body.appendChild(el); }
    el.textContent = text; el.className = bad ? "show bad" : "show";
    clearTimeout(el._t); el._t = setTimeout(() => { el.className = ""; }, 3500);
  }

  // Bidi embeddings, overrides and isolates shown as [U+202E]: a name must read as it is
  // (`x\u202egpj.exe` would display as `xexe.jpg`; issue 14, as the server-side pages do).
  const visible = (text) => String(text).replace(/[\u202a-\u202e\u2066-\u2069]/g,
    (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}]`);

  // The page's words for scripts (base.html embeds web/i18n.py JS_MESSAGES in the reader's
  // language; a text not in it stays English). `{name}` fields are filled from `vars`.
  let words = null;
  function t(text, vars) {
    if (words === null) {
      const el = document.getElementById("i18n-js");
      try { words = el ? JSON.parse(el.textContent) : {}; } catch (e) { words = {}; }
    }
    const out = Object.prototype.hasOwnProperty.call(words, text) ? words[text] : text;
    return out.replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));
  }
  const lang = () => document.documentElement.lang || undefined;
  const num = (n) => Number(n).toLocaleString(lang());

  return { api, toast, csrf, visible, t, num };
})();

document.addEventListener("DOMContentLoaded", () => {
  const range = document.getElementById("blur-range");
  if (range) range.addEventListener("input", () => { document.getElementById("blur-value").textContent = range.value; });
  const verify = document.getElementById("verify-chain");
  if (verify) verify.addEventListener("click", async () => {
    const out = document.getElementById("verify-result");
    try {
      const r = await tantalio.api("GET", "/api/audit/verify");
      out.textContent = r.ok ? tantalio.t("intact: {count} events", { count: tantalio.num(r.events) }) : tantalio.t("BROKEN: {problems}", { problems: r.problems.join("; ") });
      out.className = r.ok ? "ok" : "error";
    } catch (e) { out.textContent = e.message; out.className = "error"; }
  });
});

// Case dashboard: live ingest progress while an exhibit is being ingested.
document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("exhibits");
  if (!table || table.dataset.running !== "yes") return;
  const poll = async () => {
    try {
      const s = await tantalio.api("GET", table.dataset.statusUrl);
      const box = document.getElementById("ingest-progress");
      for (const e of s.exhibits) {
        const row = table.querySelector(`tr[data-exhibit="${e.id}"]`);
        if (!row) { location.reload(); return; }
        row.querySelector(".status").textContent = tantalio.t(e.status);
        row.querySelector(".files").textContent = tantalio.num(e.files);
      }
      for (const j of s.jobs) {
        const p = box && box.querySelector(`[data-job="${j.id}"]`);
        if (p) { p.querySelector(".state").textContent = tantalio.t(j.state); p.querySelector(".stored").textContent = tantalio.num(j.stored); }
      }
      if (!s.running) { location.reload(); return; }
    } catch (e) { /* keep polling */ }
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 1500);
});
