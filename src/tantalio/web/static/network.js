// Network page: draws /api/cases/{id}/network/graph with Cytoscape.js (static/vendor, built
// from web-assets/). Colour and shape per node type, size by score (accounts), members
// (groups) or posts (media). Clicking a node highlights its neighbourhood and offers a link to
// its account, group or media page; clicking a ranking row does the same for that account.
"use strict";

(() => {
  const box = document.getElementById("graph");
  if (!box || typeof cytoscape !== "function") return;
  const status = document.getElementById("graph-status");
  const info = document.getElementById("node-info");
  const form = document.getElementById("graph-controls");
  const COLORS = { account: "#5fa8d3", group: "#b48ade", series: "#f08fc0", invite: "#5fc9b8", site: "#c8d0d8" };
  const MEDIA = { known: "#e06c6c", new: "#e0b04c", "known-good": "#6fbf73" };
  const SHAPES = { account: "ellipse", group: "round-rectangle", media: "diamond", series: "triangle", invite: "tag", site: "hexagon" };
  const t = tantalio.t;
  const PAGE = { account: "Open the account page →", group: "Open the group page →", media: "Open the media detail →" };
  let cy = null;

  function sized(nodes, key, min, span) {
    const top = Math.max(1, ...nodes.map((n) => n[key] || 0));
    return (n) => min + span * Math.sqrt((n[key] || 0) / top);
  }

  function elements(data) {
    const accounts = data.nodes.filter((n) => n.type === "account");
    const accSize = sized(accounts, "score", 14, 46);
    const grpSize = sized(data.nodes.filter((n) => n.type === "group"), "members", 22, 30);
    const medSize = sized(data.nodes.filter((n) => n.type === "media"), "posts", 9, 12);
    const nodes = data.nodes.map((n) => {
      let size = 14, color = COLORS[n.type] || "#888", caption = "";
      if (n.type === "account") { size = accSize(n); caption = n.rank && n.rank <= 10 ? `#${n.rank} ${n.label}` : ""; }
      else if (n.type === "group") { size = grpSize(n); caption = n.label; }
      else if (n.type === "media") { size = medSize(n); color = MEDIA[n.verdict] || "#888"; }
      else if (n.type === "site") { caption = n.label.length > 24 ? n.label.slice(0, 22) + "…" : n.label; }
      return { group: "nodes", data: { ...n, size, color, shape: SHAPES[n.type] || "ellipse", caption } };
    });
    const edges = data.edges.map((e) => ({ group: "edges", data: e }));
    return nodes.concat(edges);
  }

  const STYLE = [
    { selector: "node", style: {
      "width": "data(size)", "height": "data(size)", "background-color": "data(color)", "shape": "data(shape)",
      "label": "data(caption)", "color": "#dde3ea", "font-size": 9, "text-valign": "bottom", "text-margin-y": 3,
      "text-outline-color": "#111418", "text-outline-width": 2, "min-zoomed-font-size": 6 } },
    { selector: "edge", style: { "width": 1, "line-color": "#46505b", "curve-style": "haystack", "opacity": 0.7 } },
    { selector: "edge[relation = 'posted']", style: { "line-color": "#8a6f3a" } },
    { selector: "edge[relation = 'chat']", style: { "line-style": "dashed", "line-color": "#5fa8d3" } },
    { selector: "edge[relation = 'lists'], edge[relation = 'opens']", style: { "line-color": "#3f8f83" } },
    { selector: ".faded", style: { "opacity": 0.12, "text-opacity": 0 } },
    { selector: "node.hl", style: { "label": "data(label)", "z-index": 10 } },
    { selector: "node:selected", style: { "border-width": 3, "border-color": "#ffffff" } },
    { selector: "edge.hl", style: { "opacity": 1, "width": 2 } },
  ];

  function clear() {
    if (!cy) return;
    cy.elements().removeClass("faded hl");
    document.querySelectorAll("#ranking tr.hl").forEach((r) => r.classList.remove("hl"));
    info.textContent = t("Click a node to highlight its neighbourhood; click the background to clear.");
    info.classList.add("muted");
  }

  function describe(d) {
    const bits = [];
    if (d.type === "account") {
      if (d.rank) bits.push(t("rank {rank}, score {score}", { rank: d.rank, score: d.score.toLocaleString(document.documentElement.lang || undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) }));
      bits.push(t("{known} known / {new} new media posts", { known: tantalio.num(d.known_posts), new: tantalio.num(d.new_posts) }));
      if (d.names && d.names.length) bits.push(d.names.join(", "));
    } else if (d.type === "group") {
      bits.push(t("{count} members", { count: tantalio.num(d.members) }));
      if (d.jid) bits.push(d.jid);
    } else if (d.type === "media") {
      bits.push(t(d.verdict) + (d.category !== null && d.category !== undefined ? ", " + t("category {code}", { code: d.category }) : ""));
      bits.push(t("{count} posts", { count: tantalio.num(d.posts) }), d.stored ? t("file on an exhibit") : t("file gone: known by its hash only"));
      bits.push(d.sha256);
    }
    return bits;
  }

  function focus(node) {
    clear();
    const hood = node.closedNeighborhood();
    cy.elements().not(hood).addClass("faded");
    hood.addClass("hl");
    cy.$(":selected").unselect();
    node.select();
    const d = node.data();
    info.replaceChildren();
    info.classList.remove("muted");
    const title = document.createElement("strong");
    title.textContent = t(d.type) + ": " + tantalio.visible(d.label);
    info.append(title, document.createTextNode(" · " + describe(d).join(" · ") + " "));
    if (d.href) {
      const a = document.createElement("a");
      a.id = "node-link"; a.href = d.href;
      a.textContent = t(PAGE[d.type] || "Open the page →");
      info.append(a);
    }
    const row = document.querySelector(`#ranking tr[data-node="${CSS.escape(d.id)}"]`);
    if (row) { row.classList.add("hl"); row.scrollIntoView({ block: "nearest" }); }
  }

  async function draw() {
    const params = new URLSearchParams(new FormData(form));
    status.textContent = t("loading…");
    let data;
    try {
      data = await tantalio.api("GET", `${box.dataset.src}?${params}`);
    } catch (e) { status.textContent = e.message; status.classList.add("error"); return; }
    if (cy) cy.destroy();
    const big = data.nodes.length > 300;  // cose costs ~3 s at 300 nodes, ~13 s at 800 (busy 2 cores)
    cy = cytoscape({
      container: box, elements: elements(data), style: STYLE,
      minZoom: 0.05, maxZoom: 4, boxSelectionEnabled: false,
      layout: big
        ? { name: "concentric", concentric: (n) => n.data("score") || n.degree(), levelWidth: () => 2, animate: false }
        : { name: "cose", animate: false, randomize: true, nodeRepulsion: () => 9000, idealEdgeLength: () => 60, numIter: 1500 },
    });
    cy.on("tap", "node", (ev) => focus(ev.target));
    cy.on("tap", (ev) => { if (ev.target === cy) clear(); });
    window.tantalioNetwork = { cy, data };
    const total = data.total;
    status.textContent = t("{nodes} of {total_nodes} nodes, {edges} of {total_edges} edges drawn", {
      nodes: tantalio.num(data.nodes.length), total_nodes: tantalio.num(total.nodes),
      edges: tantalio.num(data.edges.length), total_edges: tantalio.num(total.edges) })
      + (data.truncated ? " " + t("(node limit reached)") : "");
    status.classList.remove("error");
    box.dataset.ready = "yes";
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const url = new URL(location.href);
    for (const [k, v] of new FormData(form)) url.searchParams.set(k, v);
    history.replaceState(null, "", url);
    draw();
  });
  document.getElementById("ranking")?.addEventListener("click", (ev) => {
    if (ev.target.closest("a") || !cy) return;
    const row = ev.target.closest("tr[data-node]");
    const node = row && cy.getElementById(row.dataset.node);
    if (node && node.nonempty()) { focus(node); cy.animate({ center: { eles: node }, duration: 200 }); }
  });
  draw();
})();
