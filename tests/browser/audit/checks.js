// The page audit's own checks, run in the page with page.evaluate(source)(options): see
// tests/browser/test_page_audit.py's docstring for each rule and what it leaves out, and why.
// Returns [{rule, selector, snippet, detail}]. Reads the page; changes nothing.
(options) => {
  const MIN_TAP = 44;
  const MIN_FONT = 14;
  const EPSILON = 0.05; // sub-pixel rounding of rem-based sizes (2.75rem = 44px can come out 43.99)
  const scope = options.scope || null; // a selector: only check elements inside it (the opened-<details> pass)
  const findings = [];

  const inScope = (el) => !scope || el.closest(scope) !== null;

  function selectorOf(el) {
    const parts = [];
    for (let node = el; node && node.nodeType === 1 && parts.length < 6; node = node.parentElement) {
      let part = node.localName;
      if (node.id) {
        parts.unshift(`${part}#${CSS.escape(node.id)}`);
        break;
      }
      const classes = [...node.classList].slice(0, 2).map((c) => "." + CSS.escape(c)).join("");
      part += classes;
      const parent = node.parentElement;
      if (parent) {
        const same = [...parent.children].filter((c) => c.localName === node.localName);
        if (same.length > 1) part += `:nth-of-type(${same.indexOf(node) + 1})`;
      }
      parts.unshift(part);
      if (node.localName === "main" || node.localName === "header" || node.localName === "body") break;
    }
    return parts.join(" > ");
  }

  function snippetOf(el) {
    const html = el.outerHTML.replace(/\s+/g, " ");
    const open = html.slice(0, html.indexOf(">") + 1);
    const text = (el.innerText || el.textContent || "").replace(/\s+/g, " ").trim().slice(0, 40);
    return (open.length > 110 ? open.slice(0, 107) + "…" : open) + (text ? ` “${text}”` : "");
  }

  function add(rule, el, detail) {
    findings.push({ rule, selector: selectorOf(el), snippet: snippetOf(el), detail });
  }

  // Shown to nobody: no box, display/visibility/opacity hiding it, inside a closed <details>
  // (checkVisibility sees content-visibility on the details' content), or aria-hidden.
  function shown(el) {
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) return false;
    if (el.closest("[aria-hidden='true'], [inert]")) return false;
    return true;
  }

  // Visually hidden for screen readers (.visually-hidden: 1px, clipped) or parked off-screen until
  // focused (.skip: left -999px). Neither is something a thumb can see or read.
  function offstageOrClipped(el) {
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const style = getComputedStyle(node);
      const r = node.getBoundingClientRect();
      const clipped = style.clip === "rect(0px, 0px, 0px, 0px)" || /inset\(50%\)/.test(style.clipPath);
      if (clipped && r.width <= 1 && r.height <= 1) return true;
      if (style.position === "absolute" || style.position === "fixed") {
        if (r.right + window.scrollX <= 0 || r.bottom + window.scrollY <= 0) return true;
        if (style.overflow === "hidden" && r.width <= 1 && r.height <= 1) return true;
      }
    }
    return false;
  }

  const visible = (el) => shown(el) && !offstageOrClipped(el);

  // --- overflow: the page scrolls sideways. Name what sticks out of its parent. -------------
  if (!scope && options.checkOverflow) {
    const width = options.viewportWidth;
    const scrollWidth = document.documentElement.scrollWidth;
    if (scrollWidth > width) {
      const culprits = [];
      for (const el of document.body.querySelectorAll("*")) {
        if (!shown(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.right + window.scrollX <= width + 1 || r.width === 0) continue;
        const parent = el.parentElement;
        const pr = parent.getBoundingClientRect();
        if (parent === document.body || pr.right + window.scrollX <= width + 1) culprits.push([el, Math.round(r.right + window.scrollX)]);
      }
      const list = culprits.slice(0, 5).map(([el, right]) => `${selectorOf(el)} (right edge at ${right}px)`);
      findings.push({
        rule: "horizontal-overflow",
        selector: culprits.length ? selectorOf(culprits[0][0]) : "html",
        snippet: culprits.length ? snippetOf(culprits[0][0]) : "",
        detail: `scrollWidth ${scrollWidth}px > ${width}px viewport; sticking out: ${list.join("; ") || "(nothing named)"}`,
      });
    }
  }

  // --- tap targets -----------------------------------------------------------------------------
  const TARGETS = "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], label";
  const isToggle = (el) => el.localName === "input" && (el.type === "checkbox" || el.type === "radio");
  const block = (el) => {
    for (let node = el.parentElement; node; node = node.parentElement) {
      const d = getComputedStyle(node).display;
      if (d !== "inline" && d !== "contents") return node;
    }
    return document.body;
  };
  // An inline link in running text (WCAG 2.5.8's "inline" exception): an <a> laid out inline whose
  // block also holds words of its own, outside any link, button or label.
  function inSentence(el) {
    if (el.localName !== "a" || getComputedStyle(el).display !== "inline") return false;
    const container = block(el);
    const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      if (!/[\p{L}\p{N}]/u.test(t.data)) continue;
      if (t.parentElement.closest("a, button, label, summary, [role=button]")) continue;
      if (!visible(t.parentElement)) continue;
      return true;
    }
    return false;
  }
  const seen = new Set();
  for (let el of document.querySelectorAll(TARGETS)) {
    if (!inScope(el)) continue;
    if (el.localName === "label") {
      const control = el.control;
      if (!control || !isToggle(control)) continue; // other labels only focus their field
    }
    if (isToggle(el) && el.labels && el.labels.length) continue; // measured through its label
    if (el.disabled) continue;
    if (!visible(el)) continue;
    if (el.parentElement && el.parentElement.closest("a[href], button, summary, [role=button]")) {
      continue; // nested in a target that is measured itself
    }
    if (seen.has(el)) continue;
    seen.add(el);
    if (inSentence(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width + EPSILON < MIN_TAP || r.height + EPSILON < MIN_TAP) {
      add("tap-target", el, `${Math.round(r.width * 10) / 10}×${Math.round(r.height * 10) / 10} px (min ${MIN_TAP}×${MIN_TAP})`);
    }
  }

  // --- text size -------------------------------------------------------------------------------
  const parents = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    if (!t.data.trim()) continue;
    const el = t.parentElement;
    if (!el || parents.has(el) || el.closest("script, style, noscript, template, option")) continue;
    parents.add(el);
    if (!inScope(el) || !visible(el)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size + EPSILON < MIN_FONT) add("small-text", el, `font-size ${size}px (min ${MIN_FONT}px)`);
  }

  if (!scope) {
    // --- images: every <img> needs alt (alt="" marks a decorative one); an svg role=img a name. ---
    for (const img of document.querySelectorAll("img, input[type=image]")) {
      if (!img.hasAttribute("alt")) add("image-alt", img, "no alt attribute");
    }
    for (const svg of document.querySelectorAll("svg[role=img]")) {
      const named = (svg.getAttribute("aria-label") || "").trim() || svg.getAttribute("aria-labelledby") ||
        (svg.querySelector(":scope > title") && svg.querySelector(":scope > title").textContent.trim());
      if (!named) add("image-alt", svg, "svg role=img without aria-label, aria-labelledby or <title>");
    }

    // --- form fields: each needs a <label>, aria-label or aria-labelledby (whether shown or not). ---
    const NO_LABEL_NEEDED = new Set(["hidden", "submit", "button", "reset", "image"]);
    for (const field of document.querySelectorAll("input, select, textarea")) {
      if (field.localName === "input" && NO_LABEL_NEEDED.has(field.type)) continue;
      const labelled =
        [...(field.labels || [])].some((l) => l.textContent.trim()) ||
        (field.getAttribute("aria-label") || "").trim() ||
        (field.getAttribute("aria-labelledby") || "")
          .split(/\s+/)
          .some((id) => id && document.getElementById(id) && document.getElementById(id).textContent.trim());
      if (!labelled) add("field-label", field, `<${field.localName}${field.type ? ` type=${field.type}` : ""}> without label`);
    }
  }
  return findings;
}
