// Previews of files a run produced: images (blob URL in an <img>), CSV/TSV (a table built with DOM
// calls), HTML (the sandboxed result frame), other text (a <pre>). Never parses output as HTML
// in the page.
import { el } from "./dom.js";
import { parseCsv } from "./csv.js";
import { resultFrame } from "./result_frame.js";

const kImage = /\.(png|jpe?g|gif|webp|bmp|svg)$/i;
const kTable = /\.(csv|tsv)$/i;
const kHtml = /\.html?$/i;
const kText = /\.(txt|json|md|log|py|js|xml|yaml|yml|ini|cfg)$/i;
const kMaxTextBytes = 64 * 1024;

const kMime = {
    png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif",
    webp: "image/webp", bmp: "image/bmp", svg: "image/svg+xml", csv: "text/csv",
    tsv: "text/tab-separated-values", html: "text/html", htm: "text/html",
    json: "application/json", txt: "text/plain", pdf: "application/pdf",
};

export function mimeOf(name) {
    const ext = name.includes(".") ? name.split(".").pop().toLowerCase() : "";
    return kMime[ext] || "application/octet-stream";
}

export function canPreview(name) {
    return kImage.test(name) || kTable.test(name) || kHtml.test(name) || kText.test(name);
}

function decode(bytes, limit = Infinity) {
    return new TextDecoder("utf-8").decode(bytes.subarray(0, Math.min(bytes.length, limit)));
}

function tablePreview(name, bytes) {
    const { rows, truncated } = parseCsv(decode(bytes), {
        delimiter: /\.tsv$/i.test(name) ? "\t" : ",",
    });
    const [head = [], ...body] = rows;
    const caption = `${name}${truncated ? ` (first ${rows.length} rows)` : ""}`;
    return el("div", { className: "table-scroll", tabIndex: 0, role: "region", "aria-label": caption },
        el("table", { className: "csv-table" },
            el("caption", {}, caption),
            el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
            el("tbody", {}, body.map((r) => el("tr", {}, r.map((c) => el("td", {}, c)))))));
}

// The preview element for a file, or null when there is none for its type.
export function previewFor(name, bytes, blobUrl) {
    if (kImage.test(name)) return el("img", { src: blobUrl, alt: `Preview of ${name}`, className: "image-preview" });
    if (kTable.test(name)) return tablePreview(name, bytes);
    if (kHtml.test(name)) return resultFrame(decode(bytes), `Preview of ${name} (sandboxed)`);
    if (kText.test(name)) {
        const clipped = bytes.length > kMaxTextBytes;
        return el("pre", { className: "text-preview", tabIndex: 0, "aria-label": `Contents of ${name}` },
            decode(bytes, kMaxTextBytes) + (clipped ? "\n[…]" : ""));
    }
    return null;
}
