// The board: a card dropped on another column is posted by htmx to the same endpoint as the
// card's "Move to…" form (the keyboard way), and the server's answer replaces the card.
(function () {
  "use strict";

  function setUp(root) {
    root.querySelectorAll(".board-cards").forEach(function (list) {
      var board = list.closest(".board");
      if (list.dataset.sortable || !board.dataset.canMove) return;
      list.dataset.sortable = "on";
      Sortable.create(list, {
        group: board.dataset.moveGroup,
        sort: false,
        draggable: ".board-card",
        // Controls inside a card stay usable; a drag starts anywhere else on it.
        filter: "a, button, select, input, label",
        preventOnFilter: false,
        animation: 150,
        onEnd: function (event) {
          if (event.from === event.to) return;
          var card = event.item;
          card.dragOrigin = { list: event.from, index: event.oldDraggableIndex };
          htmx.ajax("POST", card.dataset.moveUrl, {
            source: card,
            target: card,
            swap: "outerHTML",
            values: {
              stage: event.to.dataset.stage,
              version: card.dataset.version,
              board: card.closest(".board").dataset.query,
            },
          });
        },
      });
    });
  }

  function card(id) {
    return document.getElementById("deal-card-" + id);
  }

  // Sent by the server before the card is replaced: a dragged card goes back where it was.
  document.addEventListener("lejek:moveRefused", function (event) {
    var moved = card(event.detail.deal);
    var origin = moved && moved.dragOrigin;
    if (!origin) return;
    var cards = origin.list.querySelectorAll(".board-card");
    var before = cards[origin.index] || origin.list.querySelector(".board-more, .board-empty");
    origin.list.insertBefore(moved, before);
    moved.dragOrigin = null;
  });

  // After a move from the card's form the card goes to its new column, keeping the focus.
  document.addEventListener("lejek:moved", function (event) {
    var moved = card(event.detail.deal);
    var list = document.getElementById("col-cards-" + event.detail.stage);
    if (!moved || !list) return;
    if (moved.parentElement !== list) {
      list.insertBefore(moved, list.firstElementChild);
      var title = moved.querySelector(".card-title a");
      if (title) title.focus();
    }
    list.querySelectorAll(".board-empty").forEach(function (empty) { empty.remove(); });
  });

  // Choosing another pipeline shows its board at once (the Switch button does it without JS).
  document.addEventListener("change", function (event) {
    if (event.target.id === "board-pipeline") event.target.form.requestSubmit();
  });

  // A card's title opens the deal in the drawer (a modal dialog: Escape or a click beside it
  // closes it, and the focus goes back to the card); with Ctrl, Cmd or Shift, or without
  // JavaScript, the link opens the deal's page.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "deal-drawer-body") return;
    var drawer = document.getElementById("deal-drawer");
    if (!drawer.open) drawer.showModal();
  });
  document.addEventListener("click", function (event) {
    var drawer = event.target;
    if (drawer.id !== "deal-drawer") return;
    var box = drawer.getBoundingClientRect();
    if (event.clientX < box.left) drawer.close(); // on the backdrop, not the drawer's padding
  });

  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
})();
