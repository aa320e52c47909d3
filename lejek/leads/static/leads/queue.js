// The hot-leads queue: j/k between rows, c to log a call, e to write an e-mail, and a call
// logged in a dialog without leaving the page. Without JavaScript every action is a link.
(() => {
  const queue = document.querySelector(".queue");
  const dialog = document.getElementById("queue-call");
  if (!queue || !dialog) return;
  const form = dialog.querySelector("form");
  const errors = form.querySelector(".form-errors");
  const status = document.getElementById("queue-status");
  let opener = null;

  const rows = () => Array.from(queue.querySelectorAll(".queue-row"));
  const rowOf = (element) => element && element.closest(".queue-row");

  function openCall(link) {
    opener = link;
    form.reset();
    form.action = link.dataset.callUrl;
    form.dataset.lead = rowOf(link).dataset.lead;
    dialog.querySelector("[data-call-name]").textContent = link.dataset.name;
    errors.hidden = true;
    errors.textContent = "";
    dialog.showModal();
    form.querySelector("input:not([type=hidden]), textarea").focus();
  }

  function showErrors(messages) {
    errors.textContent = "";
    messages.forEach((text) => {
      const line = document.createElement("p");
      line.textContent = text;
      errors.append(line);
    });
    errors.hidden = false;
  }

  async function refreshRow(leadId) {
    const row = document.getElementById(`queue-lead-${leadId}`);
    if (!row) return;
    const answer = await fetch(row.dataset.rowUrl, { headers: { "HX-Request": "false" } });
    if (answer.status === 204) row.remove();
    if (!answer.ok || answer.status === 204) return;
    const html = new DOMParser().parseFromString(await answer.text(), "text/html");
    const fresh = html.querySelector(".queue-row");
    if (fresh) row.replaceWith(fresh);
  }

  async function submitCall(event) {
    event.preventDefault();
    const leadId = form.dataset.lead;
    let answer;
    try {
      // As htmx would: the composer answers with its panel, the errors inside when invalid.
      answer = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "HX-Request": "true" },
      });
    } catch (_error) {
      showErrors([queue.dataset.callFailed]);
      return;
    }
    const html = new DOMParser().parseFromString(await answer.text(), "text/html");
    const problems = Array.from(
      html.querySelectorAll("form.f-call .errorlist li, form.f-call .form-errors p"),
    ).map((item) => item.textContent.trim());
    if (!answer.ok || problems.length) {
      showErrors(problems.length ? problems : [queue.dataset.callFailed]);
      return;
    }
    dialog.close();
    status.textContent = queue.dataset.callDone;
    await refreshRow(leadId);
    const row = document.getElementById(`queue-lead-${leadId}`);
    (row ? row.querySelector(".q-call") : opener)?.focus();
  }

  queue.addEventListener("click", (event) => {
    const link = event.target.closest(".q-call");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    openCall(link);
  });
  form.addEventListener("submit", submitCall);
  dialog.querySelector("[data-call-cancel]").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => opener?.isConnected && opener.focus());

  document.addEventListener("keydown", (event) => {
    if (dialog.open || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    const all = rows();
    if (!all.length) return;
    const current = rowOf(document.activeElement);
    const index = current ? all.indexOf(current) : -1;
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      const step = event.key === "j" ? 1 : -1;
      const next = all[Math.min(Math.max(index + step, 0), all.length - 1)];
      next.querySelector(".q-name").focus();
      next.scrollIntoView({ block: "nearest" });
    } else if (current && event.key === "c") {
      event.preventDefault();
      openCall(current.querySelector(".q-call"));
    } else if (current && event.key === "e") {
      event.preventDefault();
      current.querySelector(".q-email").click();
    }
  });
})();
