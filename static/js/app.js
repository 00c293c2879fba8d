// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("submit", (event) => {
  // Destructive actions ask first: <form data-confirm="...">.
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});

// <select data-autosubmit>: submit its form on change (no inline handlers: the CSP forbids them).
document.addEventListener("change", (event) => {
  if (event.target.matches && event.target.matches("[data-autosubmit]") && event.target.form) event.target.form.submit();
});
