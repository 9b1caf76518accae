// Input files: picked with the file control or dropped on the zone, listed with a Remove button,
// sent as /execute's `files` (name → base64).
import { bytesToBase64 } from "./base64.js";
import { el, replaceChildren } from "./dom.js";
import { formatBytes } from "./format.js";

// One line of the list: name, size, and a Remove button named after the file.
function fileItem(name, bytes, onRemove) {
    const remove = el("button", { type: "button", className: "small", "aria-label": `Remove ${name}` }, "Remove");
    remove.addEventListener("click", onRemove);
    return el("li", {}, el("span", { className: "file-name" }, name), " ",
        el("span", { className: "file-size" }, formatBytes(bytes.length)), " ", remove);
}

function acceptDrops(zone, add) {
    zone.addEventListener("dragover", (event) => {
        event.preventDefault();
        zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
        event.preventDefault();
        zone.classList.remove("dragging");
        if (event.dataTransfer && event.dataTransfer.files.length) add(event.dataTransfer.files);
    });
}

export function createInputFiles({ input, zone, list, announce }) {
    const files = new Map();  // name → Uint8Array

    function render() {
        replaceChildren(list, [...files.entries()].map(([name, bytes]) => fileItem(name, bytes, () => {
            files.delete(name);
            render();
            announce(`Removed ${name}`);
            input.focus();
        })));
        list.hidden = files.size === 0;
    }

    async function add(fileList) {
        const added = [];
        for (const file of fileList) {
            files.set(file.name, new Uint8Array(await file.arrayBuffer()));
            added.push(file.name);
        }
        render();
        if (added.length) announce(`Added ${added.join(", ")}`);
    }

    input.addEventListener("change", async () => {
        await add(input.files);
        input.value = "";
    });
    acceptDrops(zone, add);
    render();

    return {
        // The `files` field of a request, or undefined when there is none.
        payload() {
            if (files.size === 0) return undefined;
            const out = {};
            for (const [name, bytes] of files) out[name] = bytesToBase64(bytes);
            return out;
        },
        add,
    };
}
