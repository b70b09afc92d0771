// Team pages: show and copy one's key, copy a code, confirm destructive actions. No dependencies.
// The key is not in the page: it is fetched on demand from the reveal endpoint (as on the
// dashboard), whose answer no cache keeps, and dropped from the page again when hidden.
function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}
function loadKey(code) {
  if (code.dataset.revealed) return Promise.resolve(code.textContent.trim());
  return fetch(code.dataset.revealUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
  }).then((response) => {
    if (!response.ok) throw new Error("Could not load the key (" + response.status + ").");
    return response.json();
  }).then((data) => {
    code.textContent = data.key;
    code.dataset.revealed = "1";
    return data.key;
  });
}
document.querySelectorAll("details.key-reveal").forEach((details) => {
  const code = details.querySelector("[data-key]");
  const status = details.querySelector("[data-copy-status]");
  details.addEventListener("toggle", () => {
    if (details.open) {
      loadKey(code).catch((error) => { if (status) status.textContent = error.message; });
    } else {
      code.textContent = "";
      delete code.dataset.revealed;
    }
  });
});
document.querySelectorAll("[data-copy-key]").forEach((button) => {
  button.addEventListener("click", () => {
    const box = button.parentElement;
    const status = box.querySelector("[data-copy-status]");
    const done = (text) => { if (status) status.textContent = text; };
    loadKey(box.querySelector("[data-key]")).then((value) => {
      if (navigator.clipboard && window.isSecureContext) {
        return navigator.clipboard.writeText(value).then(() => done("Copied."), () => done("Select the text and copy it."));
      }
      done("Select the text and copy it.");
    }).catch((error) => done(error.message));
  });
});
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
