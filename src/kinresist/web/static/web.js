// kinresist web app: light progressive enhancement (every page works without it).
"use strict";
(function () {
  function drawPlots() {
    if (typeof window.Plotly === "undefined") { return; }
    document.querySelectorAll(".kr-plotly[data-figure]").forEach(function (div) {
      var fig = JSON.parse(div.getAttribute("data-figure"));
      window.Plotly.newPlot(div, fig.data || [], fig.layout || {},
        {responsive: true, displaylogo: false, scrollZoom: false});
    });
  }

  function pollJob() {
    var box = document.getElementById("job");
    if (!box) { return; }
    var id = box.getAttribute("data-job");
    var status = box.getAttribute("data-status");
    if (status !== "queued" && status !== "running") { return; }
    function tick() {
      fetch("/api/v1/jobs/" + encodeURIComponent(id), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) {
          if (!job) { setTimeout(tick, 3000); return; }
          document.getElementById("job-status").textContent = job.status;
          document.getElementById("job-status").className = "status status-" + job.status;
          document.getElementById("job-message").textContent = job.message;
          var bar = document.getElementById("job-progress");
          bar.value = job.progress;
          bar.className = job.status === "running" ? "busy" : "";
          if (job.status === "done" && job.result_id) {
            var p = document.getElementById("job-result");
            p.hidden = false;
            p.innerHTML = "";
            var a = document.createElement("a");
            a.className = "button primary";
            a.href = "/results/" + job.result_id;
            a.textContent = "Open the result";
            p.appendChild(a);
            window.location.assign(a.href);
          } else if (job.status === "failed") {
            var e = document.getElementById("job-error");
            e.hidden = false;
            e.textContent = job.error || "failed";
          } else {
            setTimeout(tick, 1000);
          }
        })
        .catch(function () { setTimeout(tick, 3000); });
    }
    setTimeout(tick, 500);
  }

  function fitFrame(frame) {
    try {
      var doc = frame.contentDocument;
      if (doc && doc.documentElement) {
        frame.style.height = (doc.documentElement.scrollHeight + 24) + "px";
      }
    } catch (err) { /* another origin: keep the default height */ }
  }

  function frames() {
    document.querySelectorAll("iframe.report").forEach(function (frame) {
      frame.addEventListener("load", function () {
        fitFrame(frame);
        [300, 1000, 2500].forEach(function (ms) { setTimeout(function () { fitFrame(frame); }, ms); });
      });
      fitFrame(frame);
    });
  }

  function forms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
      });
    });
    var analyse = document.getElementById("analyse-form");
    if (analyse) {
      analyse.addEventListener("submit", function () {
        var b = document.getElementById("run");
        if (b) { b.disabled = true; b.textContent = "Running…"; }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawPlots();
    pollJob();
    frames();
    forms();
  });
})();
