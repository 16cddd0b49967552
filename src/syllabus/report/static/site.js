/* Syllabus report: sortable and filterable tables, pan and zoom of the graph view, label search.
   No dependencies and nothing fetched: the search index is a script file next to the pages. */
(function () {
  "use strict";

  function cellValue(row, i, numeric) {
    var cell = row.cells[i];
    if (!cell) return numeric ? 0 : "";
    var v = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    if (numeric) { var n = parseFloat(v.replace(/,/g, "")); return isNaN(n) ? -Infinity : n; }
    return v.toLowerCase();
  }

  function makeSortable(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, i) {
      th.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "num";
        var asc = !th.classList.contains("asc");
        Array.prototype.forEach.call(heads, function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(asc ? "asc" : "desc");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, i, numeric), y = cellValue(b, i, numeric);
          return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  function applyFilters(tableId) {
    var table = document.getElementById(tableId);
    if (!table) return;
    var text = document.querySelector('input.filter[data-filter="' + tableId + '"]');
    var kind = document.querySelector('select.filter-kind[data-filter="' + tableId + '"]');
    var q = text ? text.value.trim().toLowerCase() : "";
    var k = kind ? kind.value : "";
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var show = (!q || row.textContent.toLowerCase().indexOf(q) >= 0) && (!k || row.getAttribute("data-kind") === k);
      row.style.display = show ? "" : "none";
    });
  }

  function panZoom(svg) {
    var box0 = svg.viewBox.baseVal, start = null;
    var view = { x: box0.x, y: box0.y, w: box0.width, h: box0.height };
    var initial = { x: view.x, y: view.y, w: view.w, h: view.h };
    function apply() { svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].map(function (v) { return v.toFixed(1); }).join(" ")); }
    function scale() { var r = svg.getBoundingClientRect(); return r.width ? view.w / r.width : 1; }
    svg.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var r = svg.getBoundingClientRect();
      var f = ev.deltaY < 0 ? 0.85 : 1 / 0.85;
      var px = view.x + (ev.clientX - r.left) * view.w / r.width, py = view.y + (ev.clientY - r.top) * view.h / r.height;
      view.w *= f; view.h *= f; view.x = px - (px - view.x) * f; view.y = py - (py - view.y) * f;
      apply();
    }, { passive: false });
    svg.addEventListener("pointerdown", function (ev) {
      if (ev.target.closest && ev.target.closest("a")) return;
      start = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, s: scale() };
      svg.classList.add("dragging");
      svg.setPointerCapture(ev.pointerId);
    });
    svg.addEventListener("pointermove", function (ev) {
      if (!start) return;
      view.x = start.vx - (ev.clientX - start.x) * start.s; view.y = start.vy - (ev.clientY - start.y) * start.s;
      apply();
    });
    function stop() { start = null; svg.classList.remove("dragging"); }
    svg.addEventListener("pointerup", stop);
    svg.addEventListener("pointercancel", stop);
    svg.addEventListener("dblclick", function () { view = { x: initial.x, y: initial.y, w: initial.w, h: initial.h }; apply(); });
  }

  function search() {
    var input = document.getElementById("search");
    if (!input) return;
    var root = document.body.getAttribute("data-root") || "";
    var status = document.getElementById("search-status"), list = document.getElementById("search-results");
    var loading = false;
    function run() {
      var index = window.SYLLABUS_INDEX;
      if (!index) {
        if (!loading) {
          loading = true;
          status.textContent = "Loading the index...";
          var s = document.createElement("script");
          s.src = root + "search-index.js";
          s.onload = run;
          s.onerror = function () { status.textContent = "The search index could not be loaded."; };
          document.head.appendChild(s);
        }
        return;
      }
      var q = input.value.trim().toLowerCase();
      while (list.firstChild) list.removeChild(list.firstChild);
      if (!q) { status.textContent = index.length + " labels indexed."; return; }
      var hits = [], seen = {};
      for (var i = 0; i < index.length && hits.length < 100; i++) {
        var e = index[i];
        if ((e[0].toLowerCase().indexOf(q) >= 0 || e[1].toLowerCase().indexOf(q) >= 0) && !seen[e[1] + "\u0000" + e[0]]) {
          seen[e[1] + "\u0000" + e[0]] = true;
          hits.push(e);
        }
      }
      hits.sort(function (a, b) {
        var x = a[0].toLowerCase().indexOf(q), y = b[0].toLowerCase().indexOf(q);
        return (x < 0 ? 1e9 : x) - (y < 0 ? 1e9 : y) || a[0].length - b[0].length || (a[0] < b[0] ? -1 : 1);
      });
      hits.forEach(function (e) {
        var li = document.createElement("li"), a = document.createElement("a"), id = document.createElement("code");
        a.href = root + e[2];
        a.textContent = e[0];
        id.className = "id";
        id.textContent = " " + e[1];
        li.appendChild(a); li.appendChild(id);
        list.appendChild(li);
      });
      status.textContent = hits.length ? hits.length + (hits.length === 100 ? "+" : "") + " matches." : "No label matches.";
    }
    input.addEventListener("input", run);
    var m = /[?&]q=([^&]*)/.exec(window.location.search);
    if (m) { input.value = decodeURIComponent(m[1].replace(/\+/g, " ")); }
    run();
  }

  document.querySelectorAll("table.sortable").forEach(makeSortable);
  document.querySelectorAll("input.filter, select.filter-kind").forEach(function (el) {
    el.addEventListener(el.tagName === "SELECT" ? "change" : "input", function () { applyFilters(el.getAttribute("data-filter")); });
  });
  document.querySelectorAll("svg.graph").forEach(panZoom);
  search();
})();
