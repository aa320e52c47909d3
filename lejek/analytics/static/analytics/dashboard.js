/* Reports: draw each figure's chart from its JSON blob, on the page and in every card htmx
   swaps in; offer a retry where a card could not be fetched; keep the custom dates and the
   period in step. The tables under the charts carry every number, so the page reads without
   the charts. */
(function () {
  "use strict";

  var ACCENT = "#2f5bea";
  var GREYS = ["#8a93a3", "#c2c8d2", "#5b6474", "#dde1e8", "#a9b0bc", "#3f4756"];

  function colour(index) {
    return index === 0 ? ACCENT : GREYS[(index - 1) % GREYS.length];
  }

  function dataset(series, index, type) {
    var line = type === "line" || (type === "bar+line" && index > 0);
    return {
      type: line ? "line" : "bar",
      label: series.label,
      data: series.data,
      backgroundColor: colour(index),
      borderColor: colour(index),
      borderWidth: line ? 2 : 0,
      pointRadius: line ? 3 : 0,
      tension: 0.2,
      order: line ? 0 : 1,
    };
  }

  function config(spec) {
    var funnel = spec.type === "funnel";
    var stacked = Boolean(spec.stacked);
    var baseType = spec.type === "line" ? "line" : "bar";
    // Counts get whole-number ticks; money, percents and days may be fractional.
    var whole = spec.datasets.every(function (series) {
      return series.kind === "int";
    });
    var ticks = whole ? { precision: 0 } : {};
    return {
      type: baseType,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (series, index) {
          return dataset(series, index, spec.type);
        }),
      },
      options: {
        // Numbers on the axes and in tooltips as the page's language writes them.
        locale: document.documentElement.lang || undefined,
        indexAxis: funnel ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: spec.datasets.length > 1, position: "bottom" },
        },
        scales: {
          x: {
            stacked: stacked,
            beginAtZero: true,
            grid: { display: funnel },
            ticks: funnel ? ticks : {},
          },
          y: {
            stacked: stacked,
            beginAtZero: true,
            grid: { display: !funnel },
            ticks: funnel ? {} : ticks,
          },
        },
      },
    };
  }

  function draw(canvas) {
    // htmx's first htmx:load covers the whole page, which start() has drawn already.
    if (canvas.dataset.drawn) return;
    var blob = document.getElementById(canvas.dataset.chart);
    if (!blob || typeof window.Chart === "undefined") return;
    var spec;
    try {
      spec = JSON.parse(blob.textContent);
    } catch (error) {
      return;
    }
    if (!spec || !spec.labels || !spec.labels.length) return;
    canvas.parentElement.hidden = false;
    canvas.dataset.drawn = "1";
    new window.Chart(canvas, config(spec));
  }

  function drawWithin(element) {
    if (element.matches && element.matches("canvas[data-chart]")) draw(element);
    if (element.querySelectorAll) element.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  // A placeholder whose request failed (network, 500) says so and offers to try again,
  // rather than "Computing…" for ever. htmx does not swap an error response in.
  function showLoadFailed(event) {
    var placeholder = event.detail.elt && event.detail.elt.closest("[data-placeholder]");
    if (!placeholder) return;
    placeholder.classList.add("is-load-failed");
    placeholder.setAttribute("aria-busy", "false");
    var failed = placeholder.querySelector(".report-load-failed");
    if (failed) failed.hidden = false;
  }

  // A session that has ended answers a card with the log-in page, after a redirect: rather
  // than a log-in form inside a card, the whole page goes to log in (and comes back).
  function leaveIfSignedOut(event) {
    var placeholder = event.detail.elt.closest("[data-placeholder]");
    var answered = event.detail.xhr && event.detail.xhr.responseURL;
    if (!placeholder || !answered) return;
    var asked = new URL(placeholder.getAttribute("hx-get"), window.location.href);
    if (new URL(answered).pathname === asked.pathname) return;
    event.detail.shouldSwap = false;
    window.location.reload();
  }

  function retry(event) {
    var button = event.target.closest("[data-placeholder] [data-retry]");
    if (!button) return;
    var placeholder = button.closest("[data-placeholder]");
    placeholder.classList.remove("is-load-failed");
    placeholder.setAttribute("aria-busy", "true");
    button.closest(".report-load-failed").hidden = true;
    // hx-trigger="load, retry": the same request as on page load.
    window.htmx.trigger(placeholder, "retry");
  }

  function keepPeriodInStep(form) {
    var period = form.querySelector("[name=period]");
    if (!period) return;
    form.querySelectorAll("[name=start], [name=end]").forEach(function (input) {
      input.addEventListener("change", function () {
        if (input.value) period.value = "custom";
      });
    });
  }

  function start() {
    var font = getComputedStyle(document.documentElement).fontFamily;
    if (window.Chart) {
      window.Chart.defaults.font.family = font;
      window.Chart.defaults.color = "#5b6474";
    }
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
    document.querySelectorAll("form.report-filters").forEach(keepPeriodInStep);
  }

  // Registered before htmx processes the page (it waits for DOMContentLoaded), so no card
  // can arrive unseen.
  document.addEventListener("htmx:load", function (event) {
    drawWithin(event.target);
  });
  document.addEventListener("htmx:beforeSwap", leaveIfSignedOut);
  document.addEventListener("htmx:responseError", showLoadFailed);
  document.addEventListener("htmx:sendError", showLoadFailed);
  document.addEventListener("htmx:timeout", showLoadFailed);
  document.addEventListener("click", retry);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
