// The page's application: builds the editor, the playground and the dashboard, and wires them to
// the server's capabilities. Loaded by main.js once the HTML has been painted.
import { requestJson } from "./api.js";
import { createAuth } from "./auth.js";
import { createDashboard } from "./dashboard.js";
import { byId, el } from "./dom.js";
import { createEditor } from "./editor.js";
import { createHistory } from "./history.js";
import { kDefaultCode, kExamples } from "./examples.js";
import { createInputFiles } from "./input_files.js";
import { createOutputConsole } from "./output_console.js";
import { createOutputFiles } from "./output_files.js";
import { createPlayground } from "./playground.js";
import { createRichResults } from "./rich_results.js";
import { createRunSummary } from "./run_summary.js";
import { chooseTransport } from "./transport.js";
import { kNoCapabilities, loadCapabilities } from "./capabilities.js";
import { setupViews } from "./views.js";

// The CSP nonce CodeMirror's <style> element needs: the server puts it on the stylesheet link
// (the attribute reads back empty once the page is parsed; the property keeps it).
function styleNonce() {
    const link = document.querySelector("link[rel=stylesheet][nonce]");
    return link ? link.nonce : "";
}

function announcer() {
    const region = byId("announcer");
    return (text) => {
        region.textContent = "";
        window.setTimeout(() => { region.textContent = text; }, 50);
    };
}

function showServer(health) {
    const status = byId("server-status");
    status.dataset.kind = health.status === "healthy" ? "ok" : "failed";
    status.textContent = `Server ${health.status}`;
}

function setupExamples(editor) {
    const select = byId("example");
    select.append(...kExamples.map((x) => el("option", { value: x.id }, x.title)));
    select.addEventListener("change", () => {
        const example = kExamples.find((x) => x.id === select.value);
        if (example) editor.setCode(example.code);
        select.value = "";
    });
}

function setupLanguages(editor, languages) {
    const select = byId("language");
    for (const option of select.options) option.disabled = !languages.includes(option.value);
    select.addEventListener("change", () => editor.setLanguage(select.value));
}

// A run from the history (HISTORY=full) back in the playground: its code in the editor, its
// stored output in the output pane (as text, like any output).
function reopen(editor, output, record) {
    editor.setCode(record.code);
    output.clear();
    output.note(`[output of run ${record.run_id}, ${record.status}]\n`);
    output.append("stdout", record.stdout || "");
    output.append("stderr", record.stderr || "");
    window.location.hash = "#playground";
}

export async function start() {
    const announce = announcer();
    let playground = null;
    const editor = createEditor(byId("editor"), {
        onRun: () => playground && playground.run(),
        nonce: styleNonce(),
        defaults: kDefaultCode,
        describedBy: "editor-help",
    });
    setupExamples(editor);
    const auth = createAuth({ announce });
    let loaded = await loadCapabilities().catch(() => ({ capabilities: kNoCapabilities }));
    if (loaded.needsKey) {
        await auth.accepted();
        loaded = await loadCapabilities().catch(() => ({ capabilities: kNoCapabilities }));
    }
    const { capabilities, runtime } = loaded;
    setupLanguages(editor, capabilities.languages);
    if (runtime) byId("runtime-line").textContent = `Python ${runtime.python_version || ""}`;
    const output = createOutputConsole(byId("console"), [...document.querySelectorAll("[data-show]")]);
    playground = createPlayground({
        editor,
        output,
        summary: createRunSummary({
            status: byId("run-status"),
            fields: { exit: byId("sum-exit"), time: byId("sum-time"), cpu: byId("sum-cpu"), memory: byId("sum-memory") },
            error: byId("run-error"),
            warnings: byId("run-warnings"),
            runId: byId("run-id"),
        }),
        inputFiles: createInputFiles({ input: byId("file-input"), zone: byId("dropzone"), list: byId("input-files"), announce }),
        outputFiles: createOutputFiles({ list: byId("output-files"), previews: byId("previews"), empty: byId("no-files") }),
        rich: createRichResults(byId("rich-results"), byId("rich-section")),
        transport: chooseTransport(capabilities),
        announce,
    });
    const dashboard = createDashboard({ capabilities, onHealth: showServer });
    const history = createHistory({ reopen: (record) => reopen(editor, output, record), announce });
    byId("nav-history").parentElement.hidden = !capabilities.history;
    setupViews((view) => {
        if (view === "dashboard") dashboard.show();
        else dashboard.hide();
        if (view === "history") history.show();
    });
    requestJson("/health").then(showServer).catch(() => {
        byId("server-status").textContent = "Server unreachable";
    });
    document.body.dataset.ready = "true";
}
