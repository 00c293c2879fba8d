// Sign-up: the online name check on blur, and the kind detected from the code. The form works without it.
(function () {
  const form = document.getElementById("signup-form");
  if (!form) return;
  const url = form.getAttribute("data-check-url");
  const uscc = form.querySelector("#uscc");
  const name = form.querySelector("#company_name");
  const kind = form.querySelector("#kind");
  const out = document.getElementById("uscc-check");
  let kindTouched = false;
  if (kind) kind.addEventListener("change", () => { kindTouched = true; });

  function show(text, cls, link) {
    out.textContent = text;
    out.className = "check-result " + cls;
    if (link) {
      const a = document.createElement("a");
      a.href = "#"; a.textContent = " " + link.label;
      a.addEventListener("click", (e) => { e.preventDefault(); askToJoin(link.url); });
      out.appendChild(a);
    }
  }

  function askToJoin(joinUrl) {
    // Post the person's fields to the join endpoint: it creates the account and the pending request.
    const f = document.createElement("form");
    f.method = "post"; f.action = joinUrl;
    for (const field of ["csrf_token", "contact_name", "contact", "password"]) {
      const src = form.querySelector(`[name="${field}"]`);
      const input = document.createElement("input");
      input.type = "hidden"; input.name = field; input.value = src ? src.value : "";
      f.appendChild(input);
    }
    document.body.appendChild(f);
    f.submit();
  }

  let latest = 0;
  async function check() {
    const params = new URLSearchParams({ uscc: uscc.value, name: name.value });
    if (!uscc.value.trim() && !name.value.trim()) return;
    const mine = ++latest;
    let data;
    try {
      const response = await fetch(`${url}?${params}`, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      data = await response.json();
    } catch (e) { return; }
    if (mine !== latest) return;  // a newer check (another field lost focus) has been sent since
    const L = form.dataset;
    if (data.uscc.valid) uscc.value = data.uscc.value;  // show the code as it will be stored
    const taken = data.uscc.company || data.name.company;
    if (data.uscc.error) {
      show(data.uscc.error, "bad");
    } else if (taken) {
      show((data.uscc.registered ? L.msgCodeTaken : L.msgNameTaken).replace("%s", taken.name), "bad",
           { label: L.msgJoin, url: taken.join_url });
    } else if (data.uscc.valid) {
      let text = L.msgCodeOk;
      if (data.kind_label) text += " · " + data.kind_label;
      if (data.region) text += " · " + data.region;
      show(text, "ok");
    } else {
      show("", "");
    }
    if (data.warnings && data.warnings.length) {
      const w = document.createElement("span");
      w.className = "warn-text"; w.textContent = " " + data.warnings.join(" ");
      out.appendChild(w);
    }
    if (kind && data.kind && !kindTouched) kind.value = data.kind;
  }

  uscc.addEventListener("blur", check);
  name.addEventListener("blur", check);
})();
