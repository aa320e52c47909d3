// Small keyboard helpers; everything else is htmx and plain HTML.
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input, textarea, select, [contenteditable]");
  if (event.key === "/" && !typing) {
    const search = document.getElementById("global-search");
    if (search) {
      event.preventDefault();
      search.focus();
      search.select();
    }
  }
  if (event.key === "Escape") {
    document.querySelectorAll("details.menu[open]").forEach((menu) => menu.removeAttribute("open"));
  }
});

// Relative times ("3 days ago") keep the absolute date in their title attribute.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});

// "Select all" in a list's header ticks every row checkbox of its form.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (!all) return;
  const formId = all.dataset.selectAll;
  document.querySelectorAll(`input[type=checkbox][name=ids][form="${formId}"]`).forEach((box) => {
    box.checked = all.checked;
  });
});

// A select too long to send whole (data-lookup) gets a search box that fetches the matches.
function enhanceLookup(select) {
  if (select.dataset.lookupReady) return;
  select.dataset.lookupReady = "1";
  const search = document.createElement("input");
  search.type = "search";
  search.className = "lookup-search";
  search.placeholder = select.dataset.lookupPlaceholder || "…";
  search.setAttribute("aria-label", (select.labels[0]?.textContent || "").trim() + " – " + search.placeholder);
  select.before(search);
  let timer = null;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const url = `${select.dataset.lookup}?q=${encodeURIComponent(search.value)}`;
      const answer = await fetch(url, { headers: { "HX-Request": "false" } });
      if (!answer.ok) return;
      const chosen = select.selectedOptions[0];
      const keep = chosen && chosen.value ? chosen.cloneNode(true) : null;
      const empty = select.querySelector('option[value=""]:not([disabled])');
      select.innerHTML = (empty ? empty.outerHTML : "") + (await answer.text());
      if (keep && !select.querySelector(`option[value="${keep.value}"]`)) select.prepend(keep);
      if (keep) select.value = keep.value;
    }, 250);
  });
}
document.querySelectorAll("select[data-lookup]").forEach(enhanceLookup);
document.addEventListener("htmx:afterSwap", () => {
  document.querySelectorAll("select[data-lookup]").forEach(enhanceLookup);
});
