// Files a run created: a list with sizes and download links (Blob URLs, revoked when the next run
// replaces them), and previews of those the page can show.
import { base64ToBytes } from "./base64.js";
import { el, replaceChildren } from "./dom.js";
import { formatBytes } from "./format.js";
import { canPreview, mimeOf, previewFor } from "./previews.js";

const kMaxPreviews = 8;

export function createOutputFiles({ list, previews, empty }) {
    let urls = [];

    function clear() {
        for (const url of urls) URL.revokeObjectURL(url);
        urls = [];
        list.replaceChildren();
        previews.replaceChildren();
        empty.hidden = false;
    }

    // files: /execute's `files` (relative path → base64).
    function show(files) {
        clear();
        const names = Object.keys(files || {}).sort();
        empty.hidden = names.length > 0;
        let shown = 0;
        replaceChildren(list, names.map((name) => {
            const bytes = base64ToBytes(files[name]);
            const url = URL.createObjectURL(new Blob([bytes], { type: mimeOf(name) }));
            urls.push(url);
            const base = name.split("/").pop();
            if (canPreview(name) && shown < kMaxPreviews) {
                const preview = previewFor(name, bytes, url);
                if (preview) {
                    shown += 1;
                    previews.append(el("figure", { className: "preview" },
                        preview, el("figcaption", {}, name)));
                }
            }
            return el("li", { "data-file": name },
                el("span", { className: "file-name" }, name), " ",
                el("span", { className: "file-size" }, formatBytes(bytes.length)), " ",
                el("a", { href: url, download: base, className: "download" },
                    "Download", el("span", { className: "visually-hidden" }, ` ${name}`)));
        }));
    }

    return { show, clear };
}
