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
