// handouts serve: the only script. Pages work without it; it adds printing and live preview.
"use strict";

// Print page: open the browser's print dialog for the PDF once it has loaded.
function setUpPrinting() {
  const frame = document.querySelector("iframe[data-autoprint]");
  if (!frame) return;
  const print = () => {
    try { frame.contentWindow.focus(); frame.contentWindow.print(); } catch (e) { window.print(); }
  };
  frame.addEventListener("load", () => { document.body.dataset.pdfLoaded = "1"; setTimeout(print, 300); }, { once: true });
  const button = document.getElementById("print-now");
  if (button) button.addEventListener("click", print);
}

// Preview page: when any project file changes, fetch the new preview and swap it in.
function setUpLivePreview() {
  const region = document.querySelector("[data-live-preview]");
  if (!region || !window.EventSource) return;
  const status = document.getElementById("preview-status");
  let seen = Number(region.dataset.since || 0);
  let busy = false, again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const url = new URL(window.location.href);
      url.searchParams.set("part", "body");
      const response = await fetch(url, { cache: "no-store" });
      const html = await response.text();
      region.innerHTML = html;
      region.dataset.since = String(seen);
      document.body.dataset.refreshed = String(seen);
      if (status) status.textContent = "Preview updated at " + new Date().toLocaleTimeString();
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  const events = new EventSource("/events?since=" + seen);
  events.onmessage = (event) => {
    const generation = Number(event.data);
    if (generation > seen) { seen = generation; refresh(); }
  };
}

document.addEventListener("DOMContentLoaded", () => { setUpPrinting(); setUpLivePreview(); });
