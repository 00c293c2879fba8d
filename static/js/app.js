// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("submit", (event) => {
  // Destructive actions ask first: <form data-confirm="...">.
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});
