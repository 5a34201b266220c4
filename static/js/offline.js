// Offline copies of the outage pages (static/js/sw.js, served at /sw.js): base.html loads this on
// every page and says who is looking (data-member, data-user on this script's tag).
// A member's page registers the worker; any other page (logged out, no longer a member) unregisters
// it and deletes what it kept, so that nothing of a former member stays on the phone.
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script || !("serviceWorker" in navigator) || !window.isSecureContext) return;
  const member = script.dataset.member === "true";
  const user = script.dataset.user || "";

  function forget() {
    const unregister = navigator.serviceWorker
      .getRegistrations()
      .then((registrations) => Promise.all(registrations.map((registration) => registration.unregister())));
    const deleteCaches = window.caches
      ? caches
          .keys()
          .then((names) => names.filter((name) => name.startsWith("switchboard-")))
          .then((names) => Promise.all(names.map((name) => caches.delete(name))))
      : Promise.resolve();
    return Promise.all([unregister, deleteCaches]).catch(() => {});
  }

  function assets() {
    const found = [...document.querySelectorAll("link[rel=stylesheet][href], script[src]")];
    return found.map((element) => element.href || element.src);
  }

  // `page`: the page itself came from the network, not through the worker, so it has no copy yet.
  function askToKeep(worker, page) {
    if (worker) worker.postMessage({ type: "keep", url: page ? location.href : "", assets: assets() });
  }

  if (!member) {
    forget();
    return;
  }

  const controlledAtLoad = Boolean(navigator.serviceWorker.controller);
  const workerUrl = "/sw.js?user=" + encodeURIComponent(user);
  navigator.serviceWorker
    .register(workerUrl, { scope: "/" })
    .then(() => navigator.serviceWorker.ready)
    .then((registration) => {
      if (controlledAtLoad) {
        askToKeep(navigator.serviceWorker.controller, false);
      } else if (navigator.serviceWorker.controller) {
        askToKeep(navigator.serviceWorker.controller, true);
      } else {
        // The first page after registering was loaded without the worker: once it takes over, ask it
        // to keep this page and the static files it used.
        const keepThisPage = () => askToKeep(navigator.serviceWorker.controller || registration.active, true);
        navigator.serviceWorker.addEventListener("controllerchange", keepThisPage, { once: true });
      }
    })
    // A browser that refuses workers (private mode, a policy) still has every page online: nothing to say.
    .catch(() => {});
})();
