// Reveal and copy license keys on the dashboard. The key is fetched only on demand.
(function () {
  "use strict";
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function reveal(block) {
    var code = block.querySelector(".key-value");
    if (code.dataset.revealed) { return Promise.resolve(code.textContent); }
    return fetch(code.dataset.revealUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("Could not load the key (" + response.status + ")."); }
      return response.json();
    }).then(function (data) {
      code.textContent = data.key;
      code.dataset.revealed = "1";
      return data.key;
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".js-reveal, .js-copy");
    if (!button) { return; }
    var block = button.closest(".key-block");
    reveal(block).then(function (key) {
      if (button.classList.contains("js-copy") && navigator.clipboard) {
        return navigator.clipboard.writeText(key).then(function () { button.textContent = "Copied"; });
      }
      if (button.classList.contains("js-reveal")) { button.remove(); }
    }).catch(function (error) { button.textContent = error.message; });
  });
})();
