// The History view: the caller's recent runs from GET /runs (newest first, 25 a page, "Load
// older runs" follows the server's `next` cursor), each reopenable into the editor with its
// stored output (GET /runs/{id}; code and output exist only under HISTORY=full). Records are
// shown with text nodes only: a run's code and output are data, never markup.
import { requestJson } from "./api.js";
import { byId, el, replaceChildren } from "./dom.js";
import { formatSeconds } from "./format.js";

const kPageSize = 25;

function startedText(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? String(iso || "—") : date.toLocaleString();
}

function showError(message) {
    const error = byId("history-error");
    error.textContent = message;
    error.hidden = !message;
}

// One run's row; its Open button calls open(run_id).
function rowOf(run, open) {
    const button = el("button", { type: "button", className: "small", "aria-label": `Open run ${run.run_id} in the editor` }, "Open");
    button.addEventListener("click", () => open(run.run_id));
    return el("tr", { "data-run": run.run_id },
        el("td", {}, startedText(run.started_at)),
        el("td", {}, el("span", { className: "badge", "data-kind": run.status === "ok" ? "ok" : "failed" }, String(run.status))),
        el("td", {}, formatSeconds(run.duration)),
        el("td", {}, el("code", {}, String(run.run_id))),
        el("td", {}, button));
}

// GET /runs/{id} → reopen(record), or a note when the server kept no code.
async function openRun(runId, reopen, announce) {
    const note = byId("history-note");
    note.hidden = true;
    try {
        const record = await requestJson(`/runs/${encodeURIComponent(runId)}`);
        showError("");
        if (typeof record.code !== "string") {
            note.textContent = `Run ${runId}: the server did not keep its code (HISTORY is not ` +
                "full), so it cannot be reopened.";
            note.hidden = false;
            return;
        }
        reopen(record);
        announce(`Run ${runId} reopened in the editor`);
    } catch (e) {
        showError(`Could not read run ${runId}: ${e.message}`);
    }
}

// reopen(record) puts a full record's code and output into the playground.
export function createHistory({ reopen, announce }) {
    const body = byId("history-body");
    const more = byId("history-more");
    const open = (runId) => openRun(runId, reopen, announce);
    let next = null;

    async function load(append) {
        const query = new URLSearchParams({ limit: String(kPageSize) });
        if (append && next) query.set("before", next);
        try {
            const page = await requestJson(`/runs?${query}`);
            const rows = (page.runs || []).map((run) => rowOf(run, open));
            if (append) body.append(...rows);
            else replaceChildren(body, rows);
            next = page.next || null;
            more.hidden = !next;
            byId("history-empty").hidden = body.children.length > 0;
            showError("");
            document.body.dataset.history = "loaded";
        } catch (e) {
            showError(`Could not read /runs: ${e.message}`);
        }
    }

    more.addEventListener("click", () => load(true));
    byId("history-refresh").addEventListener("click", () => load(false));
    return { show: () => load(false) };
}
