/* Reports: draw each figure's chart from its JSON blob; keep the custom dates and the period
   in step. The tables under the charts carry every number, so the page reads without this. */
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
    new window.Chart(canvas, config(spec));
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

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
