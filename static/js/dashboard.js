/* The dashboard's little JavaScript: confirmation dialogs, copy buttons, announcements for screen readers,
   the scope toggle of the configuration form and the simulator's conditional fields. Every page works without
   it (links fall back to pages, every field is shown). */
(function () {
  "use strict";

  var toastTimer = null;

  /* Say something politely to screen readers, and show it briefly on screen. */
  function announce(text) {
    if (!text) return;
    var region = document.getElementById("announcer");
    if (region) {
      region.textContent = "";
      window.setTimeout(function () { region.textContent = text; }, 50);
    }
    var toast = document.getElementById("toast");
    if (toast) {
      toast.textContent = text;
      toast.classList.add("show");
      window.clearTimeout(toastTimer);
      toastTimer = window.setTimeout(function () { toast.classList.remove("show"); }, 3500);
    }
  }
  window.dashboardAnnounce = announce;

  /* On a phone the navigation folds behind a Menu button; without this script it stays unfolded, wrapped. */
  (function () {
    var toggle = document.querySelector(".nav-toggle");
    var sidebar = document.querySelector(".sidebar");
    if (!toggle || !sidebar) return;
    toggle.hidden = false;
    sidebar.classList.add("js-nav");
    function setOpen(open) {
      sidebar.classList.toggle("nav-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    toggle.addEventListener("click", function () { setOpen(!sidebar.classList.contains("nav-open")); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && sidebar.classList.contains("nav-open")) { setOpen(false); toggle.focus(); }
    });
  })();

  /* Live parts poll only while the page is seen (no trigger filter: the Content Security Policy forbids the
     eval it needs); a hidden tab asks nothing, and catches up with its next poll once seen again. */
  document.addEventListener("htmx:beforeRequest", function (event) {
    var trigger = event.detail.elt && event.detail.elt.getAttribute("hx-trigger");
    if (document.visibilityState !== "visible" && trigger && trigger.indexOf("every") === 0) event.preventDefault();
  });

  /* Tabs (the payload card of a notification): click or arrow keys move between them (WAI-ARIA tabs pattern). */
  function selectTab(tab) {
    var tabs = Array.prototype.slice.call(document.querySelectorAll("[data-tab]"));
    tabs.forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    });
    tab.focus();
  }
  document.addEventListener("click", function (event) {
    var tab = event.target.closest("[data-tab]");
    if (tab) selectTab(tab);
  });
  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest("[data-tab]");
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) return;
    var tabs = Array.prototype.slice.call(document.querySelectorAll("[data-tab]"));
    var step = event.key === "ArrowRight" ? 1 : tabs.length - 1;
    selectTab(tabs[(tabs.indexOf(tab) + step) % tabs.length]);
  });

  /* A form with data-confirm asks before it is sent (the credentials' revoke button). */
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
  });

  /* Every form that changes something is sent once: while it is on its way its buttons are disabled and a
     second submit is ignored. The server ignores a repeat of the form's token too (dispatcher/dashboard/once.py);
     an htmx form whose answer came, and a page restored by the back button, get a fresh token. */
  var SENT_FOR = 20000;  // ms; the server waits as long for a first request before answering a repeat
  function freshToken() {
    var bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    return window.btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_");
  }
  function setBusy(form, busy) {
    var buttons = form.querySelectorAll("button:not([type=button]), input[type=submit]");
    if (busy) {
      form.setAttribute("data-busy", "");
      form.setAttribute("aria-busy", "true");
      /* Disabled once the browser has read the form: a disabled submitter would not send its name and value. */
      window.setTimeout(function () {
        buttons.forEach(function (button) {
          if (!button.disabled) { button.disabled = true; button.setAttribute("data-busy-disabled", ""); }
        });
      }, 0);
    } else {
      form.removeAttribute("data-busy");
      form.removeAttribute("aria-busy");
      buttons.forEach(function (button) {
        if (button.hasAttribute("data-busy-disabled")) { button.disabled = false; button.removeAttribute("data-busy-disabled"); }
      });
    }
  }
  function isHtmxPost(form) { return form && form.tagName === "FORM" && form.hasAttribute("hx-post"); }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if ((form.getAttribute("method") || "").toLowerCase() !== "post" || isHtmxPost(form)) return;
    if (form.hasAttribute("data-busy")) { event.preventDefault(); return; }
    if (event.defaultPrevented) return;  /* asked first (data-confirm) and cancelled */
    setBusy(form, true);
    window.setTimeout(function () { if (form.isConnected) setBusy(form, false); }, SENT_FOR);
  });
  /* htmx sends its forms itself: the same, around its request. */
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!isHtmxPost(form)) return;
    if (form.hasAttribute("data-busy")) { event.preventDefault(); return; }
    setBusy(form, true);
  });
  /* A quick answer must not let the second click of a double-click through: the form stays as it was (its
     buttons disabled, its token the same, so the server would only repeat its answer) a moment longer. */
  var DOUBLE_CLICK = 700;  // ms, longer than the slowest double-click systems allow
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!isHtmxPost(form) || !form.hasAttribute("data-busy")) return;
    window.setTimeout(function () {
      var token = form.querySelector("input[name=once]");
      if (token) token.value = freshToken();
      setBusy(form, false);
    }, DOUBLE_CLICK);
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-busy]").forEach(function (form) { setBusy(form, false); });
    document.querySelectorAll("input[name=once]").forEach(function (input) { input.value = freshToken(); });
  });

  /* A form with data-navigate goes to its chosen option's data-href (the documentation's event picker). */
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-navigate]");
    var option = form && form.querySelector("option:checked");
    if (option && option.dataset.href) window.location = option.dataset.href;
  });

  document.addEventListener("click", function (event) {
    /* A link that has a <dialog> on this page opens it instead of the confirmation page. */
    var opener = event.target.closest("[data-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog"));
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        dialog.returnFocusTo = opener;
        dialog.showModal();
        var first = dialog.querySelector("[autofocus]") || dialog.querySelector("button");
        if (first) first.focus();
      }
      return;
    }
    var closer = event.target.closest("[data-close]");
    if (closer) {
      event.preventDefault();
      closer.closest("dialog").close();
      return;
    }
    var copier = event.target.closest("[data-copy]");
    if (copier) {
      event.preventDefault();
      var source = document.querySelector(copier.getAttribute("data-copy"));
      var text = source ? source.textContent : "";
      var done = function () { announce(copier.getAttribute("data-copied") || "Copied to the clipboard."); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
      } else {
        fallbackCopy(text);
        done();
      }
      return;
    }
    var dismisser = event.target.closest("[data-dismiss]");
    if (dismisser) {
      event.preventDefault();
      var box = dismisser.closest("[data-dismissible]");
      if (box) box.remove();
    }
  });

  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (dialog.returnFocusTo) dialog.returnFocusTo.focus();
  }, true);

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    area.remove();
  }

  /* Configuration form: the product select matters only when the scope is "one product". */
  function syncScope() {
    var chosen = document.querySelector("input[name=scope]:checked");
    var product = document.getElementById("product-field");
    if (!chosen || !product) return;
    product.hidden = chosen.value !== "product";
  }
  /* Simulator forms: installments and "refused" only for a card, the plan only for a subscription product (and
     only its plans), and only the affiliates who sell the chosen product. Hidden fields are disabled, so they
     are not sent. */
  function syncSimulator() {
    document.querySelectorAll("form[data-sim-form]").forEach(function (form) {
      var payment = form.querySelector("input[name=payment_type]:checked");
      var product = form.querySelector("[data-product-select]");
      var option = product && product.options[product.selectedIndex];
      var state = {
        card: !payment || payment.value === "CREDIT_CARD",
        subscription: !!option && option.getAttribute("data-subscription") === "1"
      };
      form.querySelectorAll("[data-when]").forEach(function (box) {
        var on = !!state[box.getAttribute("data-when")];
        box.hidden = !on;
        box.querySelectorAll("input, select, textarea").forEach(function (field) { field.disabled = !on; });
      });
      /* Only the affiliates who sell the chosen product, and only its plans. */
      if (!product) return;
      form.querySelectorAll("[data-affiliate-select], [data-plan-select]").forEach(function (select) {
        Array.prototype.forEach.call(select.options, function (choice) {
          var ids = choice.getAttribute("data-products");
          if (ids === null) return;
          var fits = ids.split(",").indexOf(product.value) !== -1;
          choice.hidden = !fits;
          choice.disabled = !fits;
          if (!fits && choice.selected) select.value = "";
        });
      });
    });
  }

  /* A part shown only while a checkbox is ticked (a product's plans, for a subscription product). */
  function syncShownBy() {
    document.querySelectorAll("[data-shown-by]").forEach(function (part) {
      var box = document.getElementById(part.getAttribute("data-shown-by"));
      if (box) part.hidden = !box.checked;
    });
  }

  /* A product's plans without a price of their own follow its price: show what they will cost as it is typed
     (in cents, rounded half to even like the server's Decimal). */
  function syncPlanPrices() {
    var price = document.getElementById("id_price");
    if (!price) return;
    var cents = Math.round(parseFloat(price.value) * 100);
    document.querySelectorAll("[data-follows-price]").forEach(function (input) {
      var parts = input.getAttribute("data-follows-price").split(":");
      var shown = input.parentNode.querySelector("[data-follows-shown]");
      if (!isFinite(cents) || cents < 0) return;
      var exact = cents * parseInt(parts[0], 10) * parseInt(parts[1], 10);  // hundredths of a cent
      var whole = Math.floor(exact / 100), rest = exact % 100;
      if (rest > 50 || (rest === 50 && whole % 2 === 1)) whole += 1;
      var text = (whole / 100).toFixed(2);
      input.placeholder = text;
      if (shown) shown.textContent = text;
    });
  }
  document.addEventListener("input", function (event) {
    if (event.target.id === "id_price") syncPlanPrices();
  });

  document.addEventListener("change", function (event) {
    if (event.target.name === "scope") syncScope();
    if (event.target.type === "checkbox") syncShownBy();
    if (event.target.closest("form[data-sim-form]")) syncSimulator();
    var all = event.target.closest("[data-check-group]");
    if (all) {
      var group = document.getElementById(all.getAttribute("data-check-group"));
      group.querySelectorAll("input[type=checkbox]").forEach(function (box) { box.checked = all.checked; });
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    syncScope();
    syncSimulator();
    syncShownBy();
    syncPlanPrices();
    /* On a phone the History filters start folded, unless some are in use. */
    if (window.matchMedia("(max-width: 760px)").matches) {
      document.querySelectorAll("details[data-collapse-on-phone='']").forEach(function (box) { box.open = false; });
    }
  });

  /* A live part whose session expired was sent to the login page: go there instead of drawing it inside. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var login = document.body.getAttribute("data-login-url");
    if (xhr && login && xhr.responseURL && new URL(xhr.responseURL).pathname === login) {
      event.detail.shouldSwap = false;
      window.location.href = xhr.responseURL;
    }
  });

  /* Live regions: before htmx redraws one, remember what each item said; afterwards, announce what changed. */
  var before = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 204) return;
    before = {};
    document.querySelectorAll("[data-live-key]").forEach(function (el) {
      before[el.getAttribute("data-live-key")] = el.getAttribute("data-live-text");
    });
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (before === null) return;
    var changed = [];
    document.querySelectorAll("[data-live-key]").forEach(function (el) {
      var key = el.getAttribute("data-live-key");
      var text = el.getAttribute("data-live-text");
      if (!(key in before)) changed.push("New: " + text);
      else if (before[key] !== text) changed.push(text);
    });
    before = null;
    if (changed.length > 3) announce(changed.length + " notifications changed.");
    else if (changed.length) announce(changed.join(". "));
  });
  document.addEventListener("dashboard:announce", function (event) {
    announce(event.detail && event.detail.value);
  });
})();
