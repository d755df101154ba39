/* The reports' charts (templates/analytics/_table.html): each .report-chart names the
   json_script element holding its ECharts options and the links of its categories
   (analytics.reports.chart). A click on a bar or a point opens the requests behind it. */
(function () {
  "use strict";

  function draw(node) {
    var source = document.getElementById(node.dataset.chart);
    if (!source || !window.echarts) {
      return;
    }
    var spec = JSON.parse(source.textContent);
    var chart = window.echarts.init(node, null, { renderer: "canvas" });
    if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      spec.options.animation = false;
    }
    chart.setOption(spec.options);
    if (spec.links && spec.links.length) {
      node.classList.add("report-chart-links");
      chart.on("click", function (event) {
        var link = spec.links[event.dataIndex];
        if (link) {
          window.location.assign(link);
        }
      });
    }
    window.addEventListener("resize", function () {
      chart.resize();
    });
  }

  function start() {
    document.querySelectorAll(".report-chart[data-chart]").forEach(draw);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
