// Rich results (issue 15's `results`: [{type, data, source}]) in the result area: HTML in the
// sandboxed frame, images from their bytes, everything else as text. A server without the field
// sends none and the area stays hidden.
import { base64ToBytes } from "./base64.js";
import { el } from "./dom.js";
import { resultFrame } from "./result_frame.js";

function render(entry, index, urls) {
    const label = `Result ${index + 1} (${entry.source || "output"}, ${entry.type})`;
    if (entry.type === "text/html") return resultFrame(entry.data, label);
    if (entry.type === "image/png" || entry.type === "image/jpeg" || entry.type === "image/svg+xml") {
        const bytes = entry.type === "image/svg+xml"
            ? new TextEncoder().encode(entry.data) : base64ToBytes(entry.data);
        const url = URL.createObjectURL(new Blob([bytes], { type: entry.type }));
        urls.push(url);
        return el("img", { src: url, alt: label, className: "image-preview" });
    }
    let text = entry.data;
    if (entry.type === "application/json" && typeof text !== "string") text = JSON.stringify(text, null, 2);
    return el("pre", { className: "text-preview", tabIndex: 0, "aria-label": label }, String(text));
}

export function createRichResults(container, section) {
    let urls = [];
    return {
        clear() {
            for (const url of urls) URL.revokeObjectURL(url);
            urls = [];
            container.replaceChildren();
            section.hidden = true;
        },
        show(results) {
            this.clear();
            if (!Array.isArray(results) || results.length === 0) return;
            results.forEach((entry, i) => container.append(el("div", { className: "rich-result" }, render(entry, i, urls))));
            section.hidden = false;
        },
    };
}
