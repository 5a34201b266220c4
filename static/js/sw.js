// Switchboard's service worker (served at /sw.js by front.views.offline, registered by offline.js).
//
// It keeps, for the member who registered it, copies of the pages that matter in an outage: every
// site's access roster (/sites/<slug>/) and the machine pages (/machines/<hostname>/) they opened.
// Network first: while the server answers, its answer is shown and a copy stored; when the network
// fails, the stored copy is shown with a "Saved copy from <time>" line added after <body> (plain
// HTML, so the page's Content-Security-Policy still holds). Nothing else is stored but the static
// files those copies need. When the server answers a kept page with a redirect (to the login page)
// or a 403 (no longer a member), every copy of this member's is deleted.

const USER = new URL(self.location).searchParams.get("user") || "";
const PAGES = `switchboard-pages-${USER}`;
const STATIC = "switchboard-static";
const KEPT = [/^\/sites\/[^/]+\/$/, /^\/machines\/[^/]+\/$/];
const SAVED_AT = "X-Switchboard-Saved-At";
// The site list is read again for new sites at most this often.
const SITES_EVERY_MS = 10 * 60 * 1000;
let sitesReadAt = 0;

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  // Another member's copies (the previous user of this browser) go when this worker takes over.
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith("switchboard-pages-") && name !== PAGES)
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

function isKept(url) {
  return url.origin === self.location.origin && KEPT.some((pattern) => pattern.test(url.pathname));
}

function isStatic(url) {
  return url.origin === self.location.origin && url.pathname.startsWith("/static/");
}

function storable(response) {
  const cacheControl = (response.headers.get("Cache-Control") || "").toLowerCase();
  return response.status === 200 && response.type === "basic" && !cacheControl.includes("no-store");
}

async function store(url, response) {
  const headers = new Headers(response.headers);
  headers.set(SAVED_AT, new Date().toISOString());
  const copy = new Response(await response.blob(), { status: 200, statusText: "OK", headers });
  const cache = await caches.open(PAGES);
  await cache.put(url, copy);
}

function refused(response) {
  // The server is there and says no: this member is logged out or no longer a member.
  return response.type === "opaqueredirect" || response.status === 401 || response.status === 403;
}

async function forgetPages() {
  await caches.delete(PAGES);
}

function withBanner(html, savedAt) {
  const when = savedAt ? new Date(savedAt).toLocaleString() : "earlier";
  const banner =
    `<div class="saved-copy" role="status">Saved copy from ${when}. ` +
    "You are offline: this page may be out of date.</div>";
  return html.replace(/<body[^>]*>/i, (body) => body + banner);
}

async function savedCopy(request) {
  const cache = await caches.open(PAGES);
  const stored = await cache.match(request.url);
  if (!stored) return null;
  const headers = new Headers(stored.headers);
  headers.delete("Content-Length");
  const html = withBanner(await stored.text(), stored.headers.get(SAVED_AT));
  return new Response(html, { status: 200, statusText: "OK", headers });
}

async function page(request) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const copy = await savedCopy(request);
    if (copy) return copy;
    throw error; // the browser's own "you are offline" page
  }
  if (refused(response)) {
    await forgetPages();
  } else if (response.status === 404 || response.status === 410) {
    await (await caches.open(PAGES)).delete(request.url);
  } else if (storable(response)) {
    await store(request.url, response.clone());
  }
  return response;
}

async function staticFile(request) {
  const cache = await caches.open(STATIC);
  try {
    const response = await fetch(request);
    if (storable(response)) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const stored = await cache.match(request);
    if (stored) return stored;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (request.mode === "navigate" && isKept(url)) {
    event.respondWith(page(request));
  } else if (isStatic(url)) {
    event.respondWith(staticFile(request));
  }
  // Everything else (the admin, logins, forms, htmx parts) goes to the network as if we were not here.
});

// What a page's own script (offline.js) asks for once this worker controls it.
async function keep(url, assets) {
  const target = url ? new URL(url) : null;
  if (target && isKept(target)) {
    // The page was loaded before this worker controlled it: fetch it again to have a copy.
    await page(new Request(target.href, { credentials: "same-origin", redirect: "manual" })).catch(() => null);
  }
  const cache = await caches.open(STATIC);
  const missing = [];
  for (const asset of assets) {
    const assetUrl = new URL(asset, self.location);
    if (isStatic(assetUrl) && !(await cache.match(assetUrl.href))) missing.push(assetUrl.href);
  }
  await Promise.all(missing.map((href) => staticFile(new Request(href)).catch(() => null)));
}

async function keepEverySite() {
  // Every site's roster, not only those opened: in an outage the one you need is the one you never looked at.
  if (Date.now() - sitesReadAt < SITES_EVERY_MS) return;
  sitesReadAt = Date.now();
  let html;
  try {
    const list = await fetch("/sites/", { credentials: "same-origin", redirect: "manual" });
    if (refused(list)) return forgetPages();
    if (!list.ok) return;
    html = await list.text();
  } catch {
    sitesReadAt = 0;
    return;
  }
  const links = new Set([...html.matchAll(/href="(\/sites\/[^/"?#]+\/)"/g)].map((match) => match[1]));
  for (const link of links) {
    const url = new URL(link, self.location);
    if (!isKept(url)) continue;
    await page(new Request(url.href, { credentials: "same-origin", redirect: "manual" })).catch(() => null);
  }
}

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (message.type === "keep") {
    event.waitUntil(keep(String(message.url), Array.isArray(message.assets) ? message.assets : []).then(keepEverySite));
  } else if (message.type === "forget") {
    event.waitUntil(forgetPages());
  }
});
