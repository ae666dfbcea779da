// Pan and zoom for the SVG figures of kinresist pages and reports: click a figure, then scroll
// to zoom around the pointer, drag to pan, double-click to reset. Changes only the viewBox.
"use strict";
(function () {
  function parseBox(svg) {
    var vb = svg.getAttribute("viewBox");
    if (vb) { return vb.trim().split(/[\s,]+/).map(Number); }
    var w = parseFloat(svg.getAttribute("width")) || svg.clientWidth;
    var h = parseFloat(svg.getAttribute("height")) || svg.clientHeight;
    return [0, 0, w, h];
  }
  function setBox(svg, b) { svg.setAttribute("viewBox", b.join(" ")); }

  function enable(svg) {
    if (svg.classList.contains("kr-zoomable") || svg.parentNode.closest("svg")) { return; }
    // plotly figures zoom by themselves; only static (matplotlib) figures with a viewBox
    if (svg.closest(".kr-plotly, .js-plotly-plot, .plot-container") || !svg.getAttribute("viewBox")) { return; }
    if (svg.getBoundingClientRect().width < 150) { return; }
    var home = parseBox(svg);
    if (!(home[2] > 0 && home[3] > 0)) { return; }
    svg.classList.add("kr-zoomable");
    var box = home.slice();
    var drag = null;
    function toUser(ev) {
      var r = svg.getBoundingClientRect();
      return [box[0] + (ev.clientX - r.left) / r.width * box[2], box[1] + (ev.clientY - r.top) / r.height * box[3]];
    }
    svg.addEventListener("mousedown", function (ev) {
      svg.classList.add("kr-active");
      drag = {x: ev.clientX, y: ev.clientY, start: box.slice()};
      ev.preventDefault();
    });
    window.addEventListener("mousemove", function (ev) {
      if (!drag) { return; }
      var r = svg.getBoundingClientRect();
      box = [drag.start[0] - (ev.clientX - drag.x) / r.width * drag.start[2],
             drag.start[1] - (ev.clientY - drag.y) / r.height * drag.start[3], drag.start[2], drag.start[3]];
      setBox(svg, box);
    });
    window.addEventListener("mouseup", function () { drag = null; });
    svg.addEventListener("mouseleave", function () { if (!drag) { svg.classList.remove("kr-active"); } });
    svg.addEventListener("wheel", function (ev) {
      if (!svg.classList.contains("kr-active")) { return; }
      ev.preventDefault();
      var k = ev.deltaY > 0 ? 1.15 : 1 / 1.15;
      var p = toUser(ev);
      box = [p[0] - (p[0] - box[0]) * k, p[1] - (p[1] - box[1]) * k, box[2] * k, box[3] * k];
      setBox(svg, box);
    }, {passive: false});
    svg.addEventListener("dblclick", function () { box = home.slice(); setBox(svg, box); });
    var hint = document.createElement("div");
    hint.className = "kr-zoom-hint";
    hint.textContent = "Click the figure, then scroll to zoom and drag to pan; double-click resets.";
    hint.style.cssText = "color:#5b6573;font-size:11px";
    if (svg.parentNode) { svg.parentNode.insertBefore(hint, svg.nextSibling); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("figure svg, .kr-svg svg").forEach(enable);
  });
})();
