// GP2GP MI dashboard: reads the mireporter's API (/api/v1/…) and shows the
// national figures of a month, and one practice's months as a stacked-bar
// chart (inline SVG drawn here) and a table. It loads nothing from anywhere
// else.
//
// The page's state is in its URL: ?ods=A12345 opens a practice and
// ?month=YYYY-MM (or #YYYY-MM, #month=YYYY-MM) picks the national month.
//
// Hooks for tests and tools: body[data-ready] is "false" while loading,
// "true" once everything asked for is drawn and "error" if the figures could
// not be loaded. Every figure is in an element whose data-field is its JSON
// name in the API (a dotted path in the national table) and whose text is
// the API's value exactly, or "n/a" for null. Table rows and chart bars
// carry data-month="YYYY-MM"; chart rects carry data-field and data-count.
"use strict";

(function () {
  const API = "/api/v1/";
  const MONTH_RE = /^[0-9]{4}-(0[1-9]|1[0-2])$/;
  const ODS_RE = /^[A-Za-z0-9]{1,16}$/;

  // The chart's bands, bottom to top. Together they are every transfer
  // requested: received (the first three) plus failures.
  const BANDS = [
    { field: "integratedWithin3DaysCount", label: "integrated within 3 days", css: "band-3" },
    { field: "integratedWithin8DaysCount", label: "integrated within 8 days (after 3 days)", css: "band-8" },
    { field: "notIntegratedWithin8DaysTotal", label: "not integrated within 8 days", css: "band-late" },
    { field: "failuresTotalCount", label: "technical failures", css: "band-fail" },
  ];

  // The practice table's columns after the month, in order; the fields of
  // requestedTransfers.
  const COLUMNS = [
    { field: "requestedCount" },
    { field: "receivedCount" },
    { field: "receivedPercentOfRequested", percent: true },
    { field: "integratedWithin3DaysCount" },
    { field: "integratedWithin3DaysPercentOfReceived", percent: true },
    { field: "integratedWithin8DaysCount" },
    { field: "integratedWithin8DaysPercentOfReceived", percent: true },
    { field: "notIntegratedWithin8DaysTotal" },
    { field: "notIntegratedWithin8DaysPercentOfReceived", percent: true },
    { field: "failuresTotalCount" },
    { field: "failuresTotalPercentOfRequested", percent: true },
  ];

  const $ = (id) => document.getElementById(id);

  // APIError is a non-2xx answer, with the API's message.
  class APIError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function getJSON(path) {
    const res = await fetch(API + path, { headers: { Accept: "application/json" }, cache: "no-store" });
    let body = null;
    try {
      body = await res.json();
    } catch (_) {
      body = null;
    }
    if (!res.ok) {
      const msg = body && typeof body.error === "string" ? body.error : "HTTP " + res.status;
      throw new APIError(res.status, msg);
    }
    if (body === null || typeof body !== "object") {
      throw new APIError(res.status, "the API answered something other than JSON");
    }
    return body;
  }

  function monthString(year, month) {
    return String(year).padStart(4, "0") + "-" + String(month).padStart(2, "0");
  }

  // monthName is "October 2026" for "2026-10".
  function monthName(ym) {
    const [y, m] = ym.split("-").map(Number);
    const d = new Date(Date.UTC(y, m - 1, 1));
    if (Number.isNaN(d.getTime())) return ym;
    return d.toLocaleString("en-GB", { month: "long", year: "numeric", timeZone: "UTC" });
  }

  // display is a figure exactly as the API gave it, or "n/a" for null.
  function display(v) {
    return v === null || v === undefined ? "n/a" : String(v);
  }

  function lookup(obj, path) {
    return path.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
  }

  function setFigure(el, v) {
    el.textContent = display(v);
    if (v === null || v === undefined) {
      el.dataset.null = "true";
    } else {
      delete el.dataset.null;
    }
  }

  // fill sets every [data-field] under root from obj.
  function fill(root, obj) {
    root.querySelectorAll("[data-field]").forEach((el) => setFigure(el, lookup(obj, el.dataset.field)));
  }

  function readState() {
    const q = new URLSearchParams(location.search);
    let month = (q.get("month") || "").trim();
    if (!month && location.hash.length > 1) {
      let h = "";
      try {
        h = decodeURIComponent(location.hash.slice(1));
      } catch (_) {
        h = "";
      }
      month = h.startsWith("month=") ? h.slice("month=".length) : h;
    }
    return { month: month, ods: (q.get("ods") || "").trim().toUpperCase() };
  }

  function writeState(state) {
    const q = new URLSearchParams();
    if (state.ods) q.set("ods", state.ods);
    if (state.month) q.set("month", state.month);
    const qs = q.toString();
    history.pushState(null, "", location.pathname + (qs ? "?" + qs : ""));
  }

  function setStatus(msg) {
    $("status").textContent = msg;
  }

  function showProblems(problems) {
    const el = $("error");
    el.textContent = problems.join(" ");
    el.hidden = problems.length === 0;
  }

  function fillMonths(months, shown) {
    const select = $("month");
    const all = months.includes(shown) ? months : [shown].concat(months);
    select.replaceChildren(
      ...all.map((m) => {
        const opt = document.createElement("option");
        opt.value = m;
        opt.textContent = monthName(m) + " (" + m + ")";
        return opt;
      })
    );
    select.value = shown;
  }

  function renderNational(n, shown) {
    const section = $("national");
    section.dataset.month = shown;
    $("national-month").textContent = monthName(shown);
    fill($("national-table"), n);
    const q = "month=" + encodeURIComponent(shown);
    $("national-csv").href = API + "national.csv?" + q;
    $("practices-csv").href = API + "practices.csv?" + q;
    $("practices-failures-csv").href = API + "practices.csv?sort=failures&" + q;
  }

  function hidePractice() {
    const section = $("practice");
    section.hidden = true;
    delete section.dataset.ods;
  }

  function renderPractice(p, shown) {
    const section = $("practice");
    section.dataset.ods = p.odsCode;
    fill($("practice-identity"), p);
    const months = Array.isArray(p.metrics) ? p.metrics : [];

    const tbody = $("practice-table").tBodies[0];
    tbody.replaceChildren(
      ...months.map((pm) => {
        const ym = monthString(pm.year, pm.month);
        const tr = document.createElement("tr");
        tr.dataset.month = ym;
        if (ym === shown) tr.className = "selected";
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = ym;
        tr.append(th);
        for (const col of COLUMNS) {
          const td = document.createElement("td");
          td.dataset.field = col.field;
          if (col.percent) td.dataset.unit = "%";
          setFigure(td, pm.requestedTransfers ? pm.requestedTransfers[col.field] : null);
          tr.append(td);
        }
        return tr;
      })
    );
    drawChart(months.slice().reverse());
    section.hidden = false;
  }

  // drawChart draws one stacked bar per month (oldest first) into the
  // chart's SVG, with a text description of the same numbers.
  function drawChart(months) {
    const svg = $("practice-chart");
    const ns = svg.namespaceURI; // the SVG namespace, as the HTML parser set it
    const el = (name, attrs, text) => {
      const e = document.createElementNS(ns, name);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      if (text !== undefined) e.textContent = text;
      return e;
    };
    const count = (pm, field) => {
      const v = pm.requestedTransfers ? pm.requestedTransfers[field] : 0;
      return typeof v === "number" && v > 0 ? v : 0;
    };

    const left = 48, right = 16, top = 24, bottom = 40, plot = 200, barWidth = 36, gap = 20;
    const width = Math.max(320, left + months.length * (barWidth + gap) + right);
    const height = top + plot + bottom;
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);

    const totals = months.map((pm) => BANDS.reduce((s, b) => s + count(pm, b.field), 0));
    const max = Math.max(1, ...totals);

    const old = svg.querySelector("g.chart-body");
    if (old) old.remove();
    const body = el("g", { class: "chart-body", "aria-hidden": "true" });
    body.append(
      el("line", { class: "axis", x1: left - 8, y1: top, x2: left - 8, y2: top + plot }),
      el("line", { class: "axis", x1: left - 8, y1: top + plot, x2: width - right, y2: top + plot }),
      el("line", { class: "grid", x1: left - 8, y1: top, x2: width - right, y2: top }),
      el("text", { class: "tick", x: left - 12, y: top + 4, "text-anchor": "end" }, String(max)),
      el("text", { class: "tick", x: left - 12, y: top + plot + 4, "text-anchor": "end" }, "0")
    );

    const described = [];
    months.forEach((pm, i) => {
      const ym = monthString(pm.year, pm.month);
      const x = left + i * (barWidth + gap);
      const g = el("g", { class: "bar", "data-month": ym });
      let y = top + plot;
      const parts = [];
      for (const band of BANDS) {
        const c = count(pm, band.field);
        // A non-zero count gets at least 1 unit so that it stays visible.
        const h = c > 0 ? Math.round(Math.max((c / max) * plot, 1) * 100) / 100 : 0;
        y -= h;
        const rect = el("rect", {
          class: band.css,
          x: x,
          y: Math.round(y * 100) / 100,
          width: barWidth,
          height: h,
          "data-field": band.field,
          "data-count": c,
        });
        rect.append(el("title", {}, ym + ", " + band.label + ": " + c));
        g.append(rect);
        parts.push(c + " " + band.label);
      }
      g.append(
        el("text", { class: "total", x: x + barWidth / 2, y: Math.round(Math.max(top - 6, y - 6)), "text-anchor": "middle" }, String(totals[i])),
        el("text", { class: "label", x: x + barWidth / 2, y: top + plot + 18, "text-anchor": "middle" }, ym)
      );
      body.append(g);
      described.push(ym + ": " + totals[i] + " requested, " + parts.join(", "));
    });
    svg.append(body);
    $("chart-desc").textContent = months.length
      ? "One stacked bar per month, oldest first. " + described.join("; ") + "."
      : "The practice has no months with figures.";
  }

  let generation = 0;

  // render loads and draws everything state asks for; a newer render makes
  // an older one stop drawing.
  async function render(state) {
    const gen = ++generation;
    document.body.dataset.ready = "false";
    setStatus("Loading…");
    const problems = [];
    let month = state.month;
    if (month && !MONTH_RE.test(month)) {
      problems.push('"' + month + '" is not a month (YYYY-MM): showing the latest complete month.');
      month = "";
    }
    try {
      const [monthsBody, national] = await Promise.all([
        getJSON("months"),
        getJSON("national" + (month ? "?month=" + encodeURIComponent(month) : "")),
      ]);
      if (gen !== generation) return;
      const n = national.metrics[0];
      const shown = monthString(n.year, n.month);
      fillMonths(Array.isArray(monthsBody.months) ? monthsBody.months : [], shown);
      renderNational(n, shown);

      $("ods").value = state.ods;
      let practiceShown = "";
      if (!state.ods) {
        hidePractice();
      } else if (!ODS_RE.test(state.ods)) {
        hidePractice();
        problems.push("An ODS code is 1 to 16 letters and digits, e.g. A12345.");
      } else {
        try {
          const body = await getJSON("practices/" + encodeURIComponent(state.ods));
          if (gen !== generation) return;
          renderPractice(body.practice, shown);
          practiceShown = " and practice " + body.practice.odsCode;
        } catch (e) {
          if (gen !== generation) return;
          if (!(e instanceof APIError) || e.status !== 404) throw e;
          hidePractice();
          problems.push("No practice with figures has ODS code " + state.ods + ".");
        }
      }
      showProblems(problems);
      setStatus("Showing the national figures for " + monthName(shown) + practiceShown + ".");
      document.body.dataset.ready = "true";
    } catch (e) {
      if (gen !== generation) return;
      problems.push("The figures could not be loaded: " + (e && e.message ? e.message : String(e)) + ".");
      showProblems(problems);
      setStatus("");
      document.body.dataset.ready = "error";
    }
  }

  function start() {
    $("controls").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const state = { month: $("month").value, ods: $("ods").value.trim().toUpperCase() };
      writeState(state);
      render(state);
    });
    $("month").addEventListener("change", () => {
      const state = readState();
      state.month = $("month").value;
      writeState(state);
      render(state);
    });
    window.addEventListener("popstate", () => render(readState()));
    window.addEventListener("hashchange", () => render(readState()));
    render(readState());
  }

  start();
})();
