// Team pages: copy a key or code, confirm destructive actions. No dependencies.
document.querySelectorAll("[data-copy-key]").forEach((button) => {
  button.addEventListener("click", () => {
    const box = button.parentElement;
    const value = box.querySelector("[data-key]").textContent.trim();
    const status = box.querySelector("[data-copy-status]");
    const done = (text) => { if (status) status.textContent = text; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(() => done("Copied."), () => done("Select the text and copy it."));
    } else {
      done("Select the text and copy it.");
    }
  });
});
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
