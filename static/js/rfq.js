// RFQ form: show only the chosen category's specification fields. Without JavaScript every category's
// fields are shown and the server ignores those of other categories.
(() => {
  const select = document.getElementById("category");
  const sets = document.querySelectorAll("fieldset.spec-set[data-category]");
  const empty = document.getElementById("spec-choose-first");
  if (!select || !sets.length) return;
  const show = () => {
    let shown = 0;
    sets.forEach((set) => {
      const on = set.dataset.category === select.value;
      set.hidden = !on;
      // hidden inputs of other categories are not sent (and cannot carry stale values)
      set.querySelectorAll("input").forEach((input) => { input.disabled = !on; });
      if (on) shown += 1;
    });
    if (empty) empty.hidden = shown > 0;
  };
  select.addEventListener("change", show);
  show();
})();
