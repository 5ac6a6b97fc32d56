// magediag serve's page: sends the pasted text or dropped files to this server's
// /api/page, and shows the diagnosis it returns. Nothing else is fetched; every text
// from the input is put in the page as text, never as markup.
"use strict";

(function () {
  const DEBOUNCE_MS = 350;
  const WINDOW_LINES = 200; // lines shown around a line opened in the full text
  const READ_LINES = 1000; // repaired lines shown at first in "What magediag read"

  const $ = (id) => document.getElementById(id);
  const paste = $("paste");
  const filesInput = $("files");
  const drop = $("drop");
  const status = $("status");
  const errorBox = $("error");
  const copyMarkdown = $("copy-markdown");
  const copyText = $("copy-text");
  const panels = { cards: $("panel-cards"), read: $("panel-read"), full: $("panel-full") };
  const tabs = { cards: $("tab-cards"), read: $("tab-read"), full: $("tab-full") };

  let state = null; // the last answer of /api/page
  let files = null; // the dropped files, when they are the input
  let timer = null;
  let sequence = 0;
  let inFlight = null;

  /** Makes an element: attributes, then children (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
    }
    return node;
  }

  /** "1 line", "2 lines": a number and its noun, singular for one. */
  function count(n, one, many) {
    return `${n} ${n === 1 ? one : many}`;
  }

  function setStatus(text) {
    status.textContent = text;
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  // ---- input ------------------------------------------------------------------

  paste.addEventListener("input", () => {
    if (files) useFiles(null);
    clearTimeout(timer);
    timer = setTimeout(diagnose, DEBOUNCE_MS);
  });
  paste.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      clearTimeout(timer);
      diagnose();
    }
  });

  $("choose").addEventListener("click", () => filesInput.click());
  filesInput.addEventListener("change", () => {
    if (filesInput.files.length) useFiles(Array.from(filesInput.files));
    filesInput.value = "";
  });
  $("clear-files").addEventListener("click", () => {
    useFiles(null);
    paste.focus();
  });
  for (const target of [drop, paste]) {
    target.addEventListener("dragover", (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
    target.addEventListener("dragleave", () => drop.classList.remove("over"));
    target.addEventListener("drop", (event) => {
      event.preventDefault();
      drop.classList.remove("over");
      const dropped = Array.from(event.dataTransfer.files || []);
      if (dropped.length) useFiles(dropped);
    });
  }

  /** Makes these files the input (or the paste box again, with null), and diagnoses. */
  function useFiles(list) {
    files = list;
    $("clear-files").hidden = !list;
    $("file-list").textContent = list
      ? `${count(list.length, "file", "files")}: ${list.map((f) => f.name).join(", ")}`
      : "";
    paste.classList.toggle("inactive", Boolean(list));
    diagnose();
  }

  /** Sends the input to /api/page and shows the answer; a newer input wins. */
  async function diagnose() {
    const mine = ++sequence;
    if (inFlight) inFlight.abort();
    let url = "/api/page";
    let body;
    if (files && files.length === 1) {
      url += "?name=" + encodeURIComponent(files[0].name);
      body = files[0];
    } else if (files) {
      body = new FormData();
      for (const file of files) body.append("files", file, file.name);
    } else {
      // Read once: the value of a large text box is slow to get.
      const text = paste.value;
      if (!/\S/.test(text)) {
        state = null;
        showError("");
        render();
        setStatus("Waiting for text.");
        return;
      }
      body = new Blob([text], { type: "text/plain" });
    }
    const controller = new AbortController();
    inFlight = controller;
    setStatus("Diagnosing…");
    try {
      const response = await fetch(url, {
        method: "POST",
        body,
        signal: controller.signal,
        credentials: "same-origin",
        cache: "no-store",
      });
      const answer = await response.json();
      if (mine !== sequence) return;
      if (!response.ok) {
        showError(answer.error || `The server answered ${response.status}.`);
        setStatus("Not diagnosed.");
        return;
      }
      showError("");
      state = answer;
      render();
    } catch (e) {
      if (mine !== sequence || e.name === "AbortError") return;
      showError("magediag serve did not answer: is it still running? (" + e.message + ")");
      setStatus("Not diagnosed.");
    } finally {
      if (inFlight === controller) inFlight = null;
    }
  }

  // ---- rendering ----------------------------------------------------------------

  function render() {
    const has = Boolean(state);
    copyMarkdown.disabled = !has;
    copyText.disabled = !has;
    panels.cards.replaceChildren();
    panels.read.replaceChildren();
    panels.full.replaceChildren();
    if (!has) {
      panels.cards.append(el("p", { class: "empty" }, "Paste text or drop a file to see what broke and how to fix it."));
      return;
    }
    const summary = state.report.summary;
    setStatus(
      `${count(summary.errors, "error", "errors")}, ${count(summary.warnings, "warning", "warnings")} in ${count(summary.sources, "source", "sources")}.`
    );
    for (const message of state.messages) {
      panels.cards.append(el("p", { class: "note" }, "Could not read in full: " + message));
    }
    const several = state.report.sources.length > 1;
    for (const source of state.report.sources) {
      const section = el("section", { class: "source" });
      if (several || source.run) {
        section.append(el("h3", { class: "source-title" }, sourceTitle(source)));
      }
      for (const d of source.diagnoses) section.append(card(d, source.path));
      if (!source.diagnoses.length) section.append(nothingFound(source));
      for (const note of source.notes || []) {
        section.append(el("p", { class: "note" }, "Note: " + note));
      }
      panels.cards.append(section);
    }
    if (summary.scan) panels.cards.append(rollup(summary.scan));
    renderRead();
    openFull(state.views[0] ? state.views[0].path : null, 1, false);
  }

  function sourceTitle(source) {
    if (!source.run) return source.path;
    const run = source.run;
    return run.skipped > 0
      ? `${source.path} (latest deployment run, started ${run.started}; ${count(run.skipped, "earlier run", "earlier runs")} skipped)`
      : `${source.path} (run ${run.index} of ${run.runs}, started ${run.started})`;
  }

  function card(d, path) {
    const article = el("article", { class: `card sev-${d.severity}`, "aria-label": `${d.severity}: ${d.title}` });
    article.append(
      el(
        "h4",
        { class: "card-title" },
        el("span", { class: "badge" }, d.severity.toUpperCase()),
        " ",
        d.title
      ),
      el("p", { class: "meta" }, `${d.category} · rule ${d.rule}`),
      el("p", { class: "why" }, d.summary)
    );
    if (d.packages.length) {
      const rows = d.packages.map((p) =>
        el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.version || ""), el("td", {}, p.status || ""))
      );
      article.append(
        el("h5", {}, `Packages (${d.packages.length})`),
        el(
          "table",
          { class: "packages" },
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "package"), el("th", { scope: "col" }, "version"), el("th", { scope: "col" }, "status"))),
          el("tbody", {}, rows)
        )
      );
    }
    if (d.remediation.length) {
      article.append(el("h5", {}, "Fix"), el("ol", { class: "fix" }, d.remediation.map((s) => el("li", {}, s))));
    }
    if (d.evidence.length) {
      const more = d.count - d.evidence.length;
      article.append(
        el("h5", {}, "Evidence"),
        el(
          "ul",
          { class: "evidence" },
          d.evidence.map((e) => lineItem(e.path || path, e.line, e.text)),
          more > 0 ? el("li", { class: "more" }, `… and ${count(more, "more line", "more lines")}`) : null
        )
      );
    }
    if (d.causes.length) {
      article.append(el("h5", {}, "Likely causes"), el("ul", {}, d.causes.map((c) => el("li", {}, c))));
    }
    if (d.references.length) {
      article.append(
        el("h5", {}, "References"),
        el("ul", { class: "refs" }, d.references.map((r) => el("li", {}, reference(r))))
      );
    }
    return article;
  }

  /** A reference: a link when it is a web address, else text. */
  function reference(text) {
    if (/^https?:\/\/\S+$/.test(text)) {
      return el("a", { href: text, rel: "noreferrer noopener", target: "_blank" }, text);
    }
    return text;
  }

  /** A numbered line that opens the full text at that line. */
  function lineItem(path, line, text) {
    return el(
      "li",
      {},
      el(
        "button",
        {
          type: "button",
          class: "line-link",
          "aria-label": `Show line ${line} of ${path} in the full text`,
          onclick: () => openFull(path, line, true),
        },
        String(line)
      ),
      el("code", { class: "line-text" }, text)
    );
  }

  function nothingFound(source) {
    const box = el("div", { class: "nothing" });
    box.append(el("p", { class: "nothing-title" }, `No known failure found in ${source.path} (${source.lines} lines read).`));
    if (source.hints && source.hints.length) {
      box.append(
        el("h5", {}, "Lines that look most like an error"),
        el("ul", { class: "evidence" }, source.hints.map((h) => lineItem(source.path, h.line, h.text)))
      );
    }
    const view = state.views.find((v) => v.path === source.path);
    if (view && view.near_misses.length) {
      box.append(
        el("h5", {}, "Rules that came closest, and why they did not fire"),
        el(
          "ul",
          { class: "near" },
          view.near_misses.map((m) =>
            el(
              "li",
              {},
              el("strong", {}, m.title),
              ` (rule ${m.rule}; ${count(m.events, "matching line", "matching lines")})`,
              el("ul", { class: "tests" }, m.tests.map((t) => el("li", {}, el("code", {}, t))))
            )
          )
        )
      );
    }
    box.append(
      el(
        "p",
        { class: "hint" },
        "What to paste instead: the whole output of the failed step, not only its last lines. ",
        "Include the Composer output above the error (the lines that name packages and URLs), ",
        "or the full deploy log: magento-cloud log deploy, or var/log/cloud.log from the environment."
      )
    );
    return box;
  }

  function rollup(scan) {
    const box = el("section", { class: "rollup", "aria-label": "Across all files" });
    box.append(el("h3", {}, `Across ${count(scan.read, "log", "logs")}`));
    if (scan.causes.length) {
      box.append(
        el(
          "table",
          {},
          el("thead", {}, el("tr", {}, ["category", "severity", "logs", "which"].map((h) => el("th", { scope: "col" }, h)))),
          el(
            "tbody",
            {},
            scan.causes.map((c) =>
              el("tr", {}, el("td", {}, el("code", {}, c.category)), el("td", {}, c.severity), el("td", {}, `${c.logs} of ${scan.read}`), el("td", {}, c.paths.join(", ")))
            )
          )
        )
      );
    } else {
      box.append(el("p", {}, "No known failure in any of them."));
    }
    const skipped = Object.entries(scan.skipped).map(([k, v]) => `${k} ${v}`);
    box.append(
      el(
        "p",
        { class: "meta" },
        `Read ${count(scan.read, "log", "logs")} (${scan.compressed} gzip), skipped ${skipped.length ? skipped.join(", ") : "0"}, failed ${scan.failed.length}.`
      )
    );
    for (const f of scan.failed) box.append(el("p", { class: "note" }, `Could not read ${f.path}: ${f.reason}`));
    return box;
  }

  /** "What magediag read": the repaired lines, changed ones marked. */
  function renderRead() {
    panels.read.append(
      el(
        "p",
        { class: "explain" },
        "The text after repair, as the rules saw it: lines wrapped by a terminal or mail client joined, ",
        "prefixes (W:, quotes, bullets), HTML entities, colours and smart quotes undone. ",
        "Lines marked ",
        el("span", { class: "changed-mark" }, "changed"),
        " differ from what was pasted. Secrets are masked."
      )
    );
    for (const view of state.views) {
      const section = el("section", { class: "read-source" });
      if (state.views.length > 1) section.append(el("h3", {}, view.path));
      const list = el("ol", { class: "lines" });
      const rows = view.repaired;
      const addRows = (from) => {
        const to = Math.min(rows.length, from + READ_LINES);
        for (let i = from; i < to; i++) {
          const r = rows[i];
          const next = rows[i + 1];
          const original = view.lines[r.line - 1];
          const joined = next && next.line > r.line + 1;
          const changed = joined || original === undefined || original.trim() !== r.text;
          list.append(
            el(
              "li",
              { class: changed ? "changed" : "" },
              el("span", { class: "no" }, joined ? `${r.line}–${next.line - 1}` : String(r.line)),
              el("code", {}, r.text)
            )
          );
        }
        if (to < rows.length) {
          const more = el("li", { class: "more" });
          more.append(
            el("button", { type: "button", onclick: () => { more.remove(); addRows(to); } }, `Show ${count(Math.min(READ_LINES, rows.length - to), "more line", "more lines")}`)
          );
          list.append(more);
        }
      };
      addRows(0);
      section.append(list);
      if (!view.complete) section.append(el("p", { class: "note" }, "Only the start of this input is shown here; all of it was diagnosed."));
      panels.read.append(section);
    }
  }

  /** Opens the full text of `path` around `line` (and switches to it when `show`). */
  function openFull(path, line, show) {
    panels.full.replaceChildren();
    const view = state && state.views.find((v) => v.path === path);
    if (!view) {
      panels.full.append(el("p", { class: "empty" }, "No text to show."));
      return;
    }
    const total = view.lines.length;
    const from = Math.max(1, line - WINDOW_LINES);
    const to = Math.min(total, line + WINDOW_LINES);
    const heading = el("h3", {}, `${view.path}: lines ${from}–${to} of ${total}${view.complete ? "" : "+"}`);
    panels.full.append(heading);
    if (state.views.length > 1) {
      panels.full.append(
        el(
          "p",
          { class: "file-switch" },
          "Files: ",
          state.views.map((v) =>
            el("button", { type: "button", class: "link", "aria-current": v.path === path ? "true" : "false", onclick: () => openFull(v.path, 1, true) }, v.path)
          )
        )
      );
    }
    if (from > 1) {
      panels.full.append(el("button", { type: "button", class: "link", onclick: () => openFull(path, Math.max(1, from - WINDOW_LINES), true) }, "Earlier lines"));
    }
    const list = el("ol", { class: "lines full", start: String(from) });
    let target = null;
    for (let n = from; n <= to; n++) {
      const item = el("li", { id: `L${n}` }, el("span", { class: "no" }, String(n)), el("code", {}, view.lines[n - 1]));
      if (n === line && show) {
        item.classList.add("target");
        item.tabIndex = -1;
        target = item;
      }
      list.append(item);
    }
    panels.full.append(list);
    if (to < total) {
      panels.full.append(el("button", { type: "button", class: "link", onclick: () => openFull(path, to + WINDOW_LINES, true) }, "Later lines"));
    }
    if (show) {
      selectTab("full", false);
      if (target) {
        target.scrollIntoView({ block: "center" });
        target.focus();
      }
    }
  }

  // ---- tabs -----------------------------------------------------------------------

  function selectTab(name, focus) {
    for (const [key, tab] of Object.entries(tabs)) {
      const on = key === name;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      panels[key].hidden = !on;
    }
    if (focus) tabs[name].focus();
  }
  const order = Object.keys(tabs);
  for (const [key, tab] of Object.entries(tabs)) {
    tab.addEventListener("click", () => selectTab(key, false));
    tab.addEventListener("keydown", (event) => {
      const i = order.indexOf(key);
      if (event.key === "ArrowRight") selectTab(order[(i + 1) % order.length], true);
      else if (event.key === "ArrowLeft") selectTab(order[(i + order.length - 1) % order.length], true);
      else return;
      event.preventDefault();
    });
  }

  // ---- copying --------------------------------------------------------------------

  async function copy(text, what) {
    try {
      await navigator.clipboard.writeText(text);
      setStatus(`Copied the ${what} (${text.split("\n").length - 1} lines).`);
    } catch (e) {
      // Without clipboard permission: select it in a text box for Ctrl+C.
      const box = el("textarea", { class: "copy-fallback", readonly: "", "aria-label": `The ${what}, selected: press Ctrl+C` });
      box.value = text;
      panels.cards.prepend(box);
      box.focus();
      box.select();
      setStatus(`The ${what} is selected: press Ctrl+C to copy it.`);
    }
  }
  copyMarkdown.addEventListener("click", () => state && copy(state.markdown, "Markdown"));
  copyText.addEventListener("click", () => state && copy(state.text, "plain text"));
})();
