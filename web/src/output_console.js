// The output pane: stdout and stderr as text (never HTML), told apart by style and by a filter.
// Chunks are appended as they come (phase 2 streams them); consecutive chunks of one stream share
// a span so a long run does not make thousands of nodes.
import { el } from "./dom.js";

const kMaxChars = 2 * 1024 * 1024;  // the server caps each stream at MAX_OUTPUT_SIZE anyway

export function createOutputConsole(pre, filterButtons) {
    let last = null;
    let chars = 0;
    let clipped = false;

    function setFilter(which) {
        pre.dataset.show = which;
        for (const button of filterButtons) {
            button.setAttribute("aria-pressed", String(button.dataset.show === which));
        }
    }
    for (const button of filterButtons) {
        button.addEventListener("click", () => setFilter(button.dataset.show));
    }
    setFilter("all");

    return {
        clear() {
            pre.replaceChildren();
            last = null;
            chars = 0;
            clipped = false;
        },
        // stream: "stdout" | "stderr"; text: what the program wrote (shown verbatim).
        append(stream, text) {
            if (!text || clipped) return;
            if (chars + text.length > kMaxChars) {
                text = text.slice(0, Math.max(0, kMaxChars - chars));
                clipped = true;
            }
            chars += text.length;
            if (!last || last.dataset.stream !== stream) {
                last = el("span", { className: `out-${stream}`, "data-stream": stream });
                pre.append(last);
            }
            last.append(document.createTextNode(text));
            if (clipped) pre.append(el("span", { className: "out-note" }, "\n[output clipped by the page]\n"));
            pre.scrollTop = pre.scrollHeight;
        },
        // A line of the page's own (e.g. "Stopped"), styled apart from the program's output.
        note(text) {
            last = null;
            pre.append(el("span", { className: "out-note" }, text));
        },
        text: (stream) =>
            [...pre.querySelectorAll(`[data-stream="${stream}"]`)].map((s) => s.textContent).join(""),
    };
}
