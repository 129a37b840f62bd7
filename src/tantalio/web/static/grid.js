// Tiles, selection, reveal, keyboard triage, categorize/tag, series — for the grid, media
// detail and series pages. Every action goes through the JSON API (CSRF header in tantalio.api).
"use strict";

(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const t = tantalio.t;
  const CAT_SHORT = (c) => (c === null || c === "" || c === undefined ? t("uncat.") : t("cat {code}", { code: c }));

  const grid = $("#grid");
  const detail = $("#detail");
  const seriesBox = $("#series");
  const caseId = (grid && grid.dataset.case) || (detail && detail.dataset.case) || "";

  // ---- selection and focus ----------------------------------------------------------------
  const tiles = () => $$(".tile[data-media]", grid || document);
  const selected = (root = document) => $$(".tile.selected", root);
  function updateCount() {
    const el = $("#sel-count");
    if (el) el.textContent = String(selected().length);
  }
  function focusTile(tile) {
    if (!tile) return;
    $$(".tile.focused").forEach((t) => t.classList.remove("focused"));
    tile.classList.add("focused");
    tile.focus({ preventScroll: true });
    tile.scrollIntoView({ block: "nearest" });
  }
  const focused = () => $(".tile.focused");
  function toggle(tile) {
    tile.classList.toggle("selected");
    updateCount();
  }

  document.addEventListener("click", (ev) => {
    const reveal = ev.target.closest("button.reveal");
    if (reveal) { ev.preventDefault(); revealTile(reveal.closest(".tile")); return; }
    const tile = ev.target.closest(".tile[data-media]");
    if (tile && !ev.target.closest("a") && !tile.classList.contains("large")) {
      const box = tile.closest(".grid") || document;
      const all = $$(".tile[data-media]", box);
      const here = all.indexOf(tile);
      if (ev.shiftKey && lastClicked && lastClicked.box === box && lastClicked.index !== -1) {
        const [a, b] = [Math.min(here, lastClicked.index), Math.max(here, lastClicked.index)];
        all.slice(a, b + 1).forEach((t) => t.classList.add("selected"));
        updateCount();
      } else {
        toggle(tile);
      }
      lastClicked = { box, index: here };
      focusTile(tile);
    }
  });
  let lastClicked = null;
  document.addEventListener("dblclick", (ev) => {
    const tile = ev.target.closest(".tile[data-media]");
    if (tile && !tile.classList.contains("large")) openTile(tile);
  });
  function openTile(tile) {
    // Carry the grid's filter, so the media page steps through what the grid showed.
    const params = new URLSearchParams(location.search);
    params.delete("cursor");
    if (caseId) params.set("case", caseId);
    const q = params.toString();
    location.href = `/media/${tile.dataset.media}` + (q ? `?${q}` : "");
  }

  // ---- reveal (audited server-side) ---------------------------------------------------------
  async function revealTile(tile) {
    if (!tile) return;
    const img = $("img", tile);
    const button = $("button.reveal", tile);
    if (tile.classList.contains("revealed")) {
      img.src = img.dataset.blurred;
      tile.classList.remove("revealed");
      if (button) { button.textContent = t("reveal"); button.title = t("Reveal this item (r). Recorded in the audit log."); }
      return;
    }
    try {
      const q = caseId ? `?case=${encodeURIComponent(caseId)}` : "";
      const r = await tantalio.api("POST", `/api/media/${tile.dataset.media}/reveal${q}`);
      img.src = r.url;
      tile.classList.add("revealed");
      if (button) { button.textContent = t("hide"); button.title = t("Blur it again (r)"); }
    } catch (e) { tantalio.toast(e.message, true); }
  }

  // ---- categorize and tag --------------------------------------------------------------------
  function targets() {
    if (detail) return [Number(detail.dataset.media)];
    const sel = selected(grid || document);
    if (sel.length) return sel.map((t) => Number(t.dataset.media));
    const f = focused();
    return f ? [Number(f.dataset.media)] : [];
  }
  function showCategory(ids, category) {
    const set = new Set(ids.map(String));
    $$(".tile[data-media]").forEach((t) => {
      if (!set.has(t.dataset.media)) return;
      t.dataset.category = category === null ? "" : String(category);
      const badge = $('[data-role="category"]', t);
      if (badge) { badge.textContent = CAT_SHORT(category); badge.className = `badge cat c-${category === null ? "none" : category}`; }
    });
    const label = $("#category-label");
    if (label && detail) {
      const btn = $(`.catbtn[data-category="${category === null ? "" : category}"]`);
      label.textContent = category === null ? t("Uncategorized") : btn.title.replace(/ \([^()]*\)$/, "");
    }
  }
  async function categorize(category) {
    const ids = targets();
    if (!ids.length) { tantalio.toast(t("Select or focus an item first"), true); return; }
    const single = !detail && !selected(grid || document).length;
    try {
      const r = await tantalio.api("POST", "/api/media/categorize", { media_ids: ids, category });
      showCategory(ids, category);
      tantalio.toast(t("{count} item(s) → {category} ({changed} changed)", { count: ids.length, category: CAT_SHORT(category), changed: r.changed.length }));
      if (single) move(1);
      else if (!detail) { selected().forEach((t) => t.classList.remove("selected")); updateCount(); }
    } catch (e) { tantalio.toast(e.message, true); }
  }
  $$(".catbtn").forEach((b) => b.addEventListener("click", () => categorize(b.dataset.category === "" ? null : Number(b.dataset.category))));

  async function tag(add, remove) {
    const ids = targets();
    if (!ids.length) { tantalio.toast(t("Select or focus an item first"), true); return; }
    try {
      await tantalio.api("POST", "/api/media/tags", { media_ids: ids, add, remove });
      if (detail) location.reload();
      else tantalio.toast(t("Tagged {count} item(s)", { count: ids.length }));
    } catch (e) { tantalio.toast(e.message, true); }
  }
  const tagAdd = $("#tag-add");
  if (tagAdd) tagAdd.addEventListener("click", () => {
    const input = $("#tag-input");
    if (input.value.trim()) { tag([input.value.trim()], []); input.value = ""; }
  });
  $$(".untag").forEach((b) => b.addEventListener("click", (ev) => { ev.stopPropagation(); tag([], [b.dataset.tag]); }));
  const notesSave = $("#notes-save");
  if (notesSave) notesSave.addEventListener("click", async () => {
    try {
      await tantalio.api("PUT", `/api/media/${detail.dataset.media}/notes`, { notes: $("#notes").value });
      tantalio.toast(t("Notes saved"));
    } catch (e) { tantalio.toast(e.message, true); }
  });
  const seriesAdd = $("#series-add");
  if (seriesAdd) seriesAdd.addEventListener("click", async () => {
    const sid = $("#series-pick").value;
    try {
      await tantalio.api("POST", `/api/series/${sid}/members`, { add: [Number(detail.dataset.media)], remove: [] });
      location.reload();
    } catch (e) { tantalio.toast(e.message, true); }
  });

  // ---- series from the grid -----------------------------------------------------------------
  const seriesNew = $("#series-new");
  if (seriesNew) seriesNew.addEventListener("click", async () => {
    const ids = targets();
    if (!ids.length) { tantalio.toast(t("Select the media of the series first"), true); return; }
    const name = prompt(t("Name of the new series ({count} item(s)):", { count: ids.length }));
    if (!name) return;
    try {
      const s = await tantalio.api("POST", "/api/series", { name, media_ids: ids });
      location.href = `/series/${s.id}`;
    } catch (e) { tantalio.toast(e.message, true); }
  });

  // ---- keyboard triage ----------------------------------------------------------------------
  function columns() {
    const all = tiles();
    if (all.length < 2) return 1;
    const top = all[0].offsetTop;
    const i = all.findIndex((t) => t.offsetTop !== top);
    return i === -1 ? all.length : i;
  }
  function move(delta) {
    const all = tiles();
    if (!all.length) return;
    const i = all.indexOf(focused());
    const j = i === -1 ? 0 : Math.max(0, Math.min(all.length - 1, i + delta));
    if (i === all.length - 1 && delta > 0 && grid && grid.dataset.next) { location.href = grid.dataset.next; return; }
    focusTile(all[j]);
  }
  if (detail) {
    document.addEventListener("keydown", (ev) => {
      if (ev.target.closest("input, textarea, select") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (/^[0-4]$/.test(ev.key) && $(".catbtn:not([disabled])")) categorize(Number(ev.key));
      else if (ev.key === "u" && $(".catbtn:not([disabled])")) categorize(null);
      else if (ev.key === "r") revealTile($(".tile.large"));
      else if ((ev.key === "ArrowRight" || ev.key === "n") && detail.dataset.next) location.href = detail.dataset.next;
      else if ((ev.key === "ArrowLeft" || ev.key === "p") && detail.dataset.prev) location.href = detail.dataset.prev;
      else return;
      ev.preventDefault();
    });
  }
  if (grid) {
    if (tiles().length) focusTile(tiles()[0]);
    document.addEventListener("keydown", (ev) => {
      if (ev.target.closest("input, textarea, select") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const k = ev.key;
      if (/^[0-4]$/.test(k)) categorize(Number(k));
      else if (k === "u") categorize(null);
      else if (k === "ArrowRight" || k === "l") move(1);
      else if (k === "ArrowLeft" || k === "h") move(-1);
      else if (k === "ArrowDown" || k === "j") move(columns());
      else if (k === "ArrowUp" || k === "k") move(-columns());
      else if (k === " " || k === "x") { const f = focused(); if (f) toggle(f); }
      else if (k === "a") { tiles().forEach((t) => t.classList.add("selected")); updateCount(); }
      else if (k === "Escape") { selected().forEach((t) => t.classList.remove("selected")); updateCount(); }
      else if (k === "r") revealTile(focused());
      else if (k === "Enter") { const f = focused(); if (f) openTile(f); }
      else if (k === "n" && grid.dataset.next) location.href = grid.dataset.next;
      else if (k === "p" && grid.dataset.first) location.href = grid.dataset.first;
      else return;
      ev.preventDefault();
    });
    const cams = $("#cameras");
    if (cams) tantalio.api("GET", cams.dataset.url).then((list) => {
      cams.replaceChildren(...list.map((c) => { const o = document.createElement("option"); o.value = c; return o; }));
    }).catch(() => {});
    const count = $("#grid-count");
    if (count) tantalio.api("GET", count.dataset.url).then((r) => { count.textContent = r.count.toLocaleString(); })
      .catch(() => { count.textContent = "?"; });
  }

  // ---- the series page ----------------------------------------------------------------------
  function makeTile(p) {
    const m = p.media || {};
    const fig = document.createElement("figure");
    fig.className = "tile";
    fig.dataset.media = String(p.media_id);
    const box = document.createElement("div");
    box.className = "thumb";
    const img = document.createElement("img");
    img.src = img.dataset.blurred = `/api/media/${p.media_id}/thumbnail`;
    img.alt = ""; img.draggable = false;
    const rv = document.createElement("button");
    rv.type = "button"; rv.className = "reveal"; rv.textContent = t("reveal"); rv.title = t("Reveal this item (r). Recorded in the audit log.");
    const check = document.createElement("span");
    check.className = "check"; check.textContent = "✓";
    box.append(img, rv, check);
    const cap = document.createElement("figcaption");
    const why = document.createElement("span");
    why.className = "badge reason";
    why.textContent = p.reason === "near-duplicate" ? `PDQ ${p.distance}` : t("camera {name}", { name: p.camera || "" });
    const link = document.createElement("a");
    link.className = "path"; link.href = `/media/${p.media_id}`;
    link.textContent = tantalio.visible((m.path || m.sha256 || String(p.media_id)).split("/").pop());
    cap.append(why, document.createTextNode(" "), link);
    fig.append(box, cap);
    return fig;
  }
  if (seriesBox) {
    const sid = seriesBox.dataset.series;
    const find = $("#find-similar");
    if (find) find.addEventListener("click", async () => {
      try {
        const proposals = await tantalio.api("GET", `/api/series/${sid}/similar`);
        const box = $("#proposals");
        box.replaceChildren(...proposals.map(makeTile));
        $("#proposal-count").textContent = String(proposals.length);
        $("#proposals-card").classList.remove("hidden");
        if (!proposals.length) tantalio.toast(t("Nothing similar found"));
      } catch (e) { tantalio.toast(e.message, true); }
    });
    const all = $("#proposals-all");
    if (all) all.addEventListener("click", () => $$("#proposals .tile").forEach((t) => t.classList.add("selected")));
    const add = $("#proposals-add");
    if (add) add.addEventListener("click", async () => {
      const ids = selected($("#proposals")).map((t) => Number(t.dataset.media));
      if (!ids.length) { tantalio.toast(t("Select proposals first"), true); return; }
      try { await tantalio.api("POST", `/api/series/${sid}/members`, { add: ids, remove: [] }); location.reload(); }
      catch (e) { tantalio.toast(e.message, true); }
    });
    const rm = $("#remove-selected");
    if (rm) rm.addEventListener("click", async () => {
      const ids = selected($("#members")).map((t) => Number(t.dataset.media));
      if (!ids.length) { tantalio.toast(t("Select members first"), true); return; }
      try { await tantalio.api("POST", `/api/series/${sid}/members`, { add: [], remove: ids }); location.reload(); }
      catch (e) { tantalio.toast(e.message, true); }
    });
    const form = $("#series-form");
    if (form) form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { notes: form.notes.value };
      if (!form.status.disabled) {
        body.status = form.status.value;
        body.victim_identified = form.victim_identified.checked;
        body.offender_identified = form.offender_identified.checked;
      }
      try { await tantalio.api("PATCH", `/api/series/${sid}`, body); tantalio.toast(t("Series saved")); }
      catch (e) { tantalio.toast(e.message, true); }
    });
  }
})();
