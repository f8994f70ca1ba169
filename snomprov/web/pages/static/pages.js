// snomprov operators' pages: progressive enhancement only; every page works without it.
"use strict";
(function () {
  // Live updates: a page whose body names a stream replaces each element
  // with a data-live-key by the stream's value of that key, and prepends
  // new events to the table body with data-live-events.
  var url = document.body.getAttribute("data-live");
  if (url && window.EventSource) {
    var source = new EventSource(url);
    source.addEventListener("counts", function (e) {
      var counts = JSON.parse(e.data);
      document.querySelectorAll("[data-live-key]").forEach(function (el) {
        var key = el.getAttribute("data-live-key");
        el.textContent = String(counts[key] || 0);
      });
    });
    source.addEventListener("events", function (e) {
      var body = document.querySelector("[data-live-events]");
      if (!body) { return; }
      JSON.parse(e.data).forEach(function (ev) {
        var tr = document.createElement("tr");
        [ev.time, ev.mac || "", ev.kind, ev.detail].forEach(function (text, i) {
          var td = document.createElement("td");
          if (i === 1 && text) {
            var a = document.createElement("a");
            a.href = "/devices/" + text; a.textContent = text; td.appendChild(a);
          } else { td.textContent = text; }
          tr.appendChild(td);
        });
        body.insertBefore(tr, body.firstChild);
        while (body.children.length > 50) { body.removeChild(body.lastChild); }
      });
    });
    source.addEventListener("waiting", function (e) {
      var list = document.querySelector("[data-live-waiting]");
      if (!list) { return; }
      list.innerHTML = "";
      JSON.parse(e.data).forEach(function (d) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = "/register?mac=" + d.mac; a.textContent = d.mac;
        li.appendChild(a);
        li.appendChild(document.createTextNode(" " + [d.vendor, d.model, d.ip].filter(Boolean).join(" ")));
        list.appendChild(li);
      });
    });
  }
  // An import under way: its steps from the job's stream, then its result.
  var job = document.getElementById("import-progress");
  if (job && window.EventSource) {
    var steps = new EventSource(job.getAttribute("data-stream"));
    var bar = job.querySelector("progress"), step = document.getElementById("import-step");
    steps.addEventListener("progress", function (e) {
      var p = JSON.parse(e.data);
      step.textContent = p.text;
      if (p.total && p.stage !== "writing") { bar.max = p.total; bar.value = p.done; }
      else { bar.removeAttribute("value"); }
    });
    steps.addEventListener("done", function () {
      steps.close();
      window.location.replace(job.getAttribute("data-result"));
    });
  }
  // Tables of devices: "select all".
  document.querySelectorAll("input[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll("input[name=mac][type=checkbox]").forEach(function (b) { b.checked = box.checked; });
    });
  });
  // Uploads: a progress bar while a large file is sent.
  document.querySelectorAll("form[data-progress]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.XMLHttpRequest || !window.FormData) { return; }
      var bar = form.querySelector("progress");
      if (!bar) { return; }
      e.preventDefault();
      bar.hidden = false;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (p) {
        if (p.lengthComputable) { bar.max = p.total; bar.value = p.loaded; }
      });
      xhr.addEventListener("load", function () {
        document.open(); document.write(xhr.responseText); document.close();
      });
      xhr.send(new FormData(form));
    });
  });
})();
