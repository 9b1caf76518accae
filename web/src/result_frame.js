// Rich HTML from a program (an .html file it wrote; phase 2: `results` of type text/html),
// shown in an iframe that is sandboxed with no permission at all: no script, an opaque origin
// (no access to this page, its storage or its cookies), no forms, popups or navigation of the
// page. The document also inherits the page's CSP, so its scripts are blocked twice.
//
// srcdoc is the only HTML sink in the page; the CSP requires Trusted Types and names this one
// policy, so no other code can write HTML into the DOM.
import { el } from "./dom.js";

let policy = null;

function trustedHtml(html) {
    if (!window.trustedTypes) return html;
    if (!policy) {
        // Passing the program's HTML unchanged is right here and nowhere else: it goes into the
        // sandboxed frame below, never into this page's DOM.
        policy = window.trustedTypes.createPolicy("sbx-result", { createHTML: (s) => s });
    }
    return policy.createHTML(html);
}

// A frame showing `html`, titled for screen readers.
export function resultFrame(html, title) {
    const frame = el("iframe", { className: "result-frame", title });
    frame.setAttribute("sandbox", "");
    frame.setAttribute("referrerpolicy", "no-referrer");
    frame.srcdoc = trustedHtml(html);
    return frame;
}
