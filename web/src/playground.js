// The playground's controller: Run/Stop, the request built from the editor and the controls, the
// result shown in the summary, the output pane, the file list and the rich result area.
import { byId } from "./dom.js";
import { load, save } from "./storage.js";

// The /execute body for the editor's code, the timeout field and the input files.
function buildRequest(editor, timeout, inputFiles) {
    const body = { code: editor.getCode() };
    const seconds = Number.parseInt(timeout.value, 10);
    if (Number.isFinite(seconds)) body.timeout = seconds;
    const files = inputFiles.payload();
    if (files) body.files = files;
    if (editor.language() !== "python") body.language = editor.language();
    return body;
}

function setRunning(running) {
    byId("run").disabled = running;
    byId("stop").disabled = !running;
    document.body.dataset.running = String(running);
}

// Ctrl/Cmd+Enter anywhere on the playground runs (inside the editor, its own keymap does).
function bindRunKey(run) {
    document.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.defaultPrevented &&
            !byId("view-playground").hidden) {
            event.preventDefault();
            run();
        }
    });
}

export function createPlayground(parts) {
    const { editor, output, summary, inputFiles, outputFiles, rich, transport, announce } = parts;
    const timeout = byId("timeout");
    timeout.value = load("timeout", timeout.value);
    timeout.addEventListener("change", () => save("timeout", timeout.value));
    let handle = null;

    async function run() {
        if (handle) return;
        editor.flush();
        output.clear();
        outputFiles.clear();
        rich.clear();
        summary.running();
        setRunning(true);
        announce("Running");
        handle = transport(buildRequest(editor, timeout, inputFiles),
            { output: (stream, text) => output.append(stream, text) });
        try {
            const result = await handle.done;
            summary.show(result);
            outputFiles.show(result.files);
            rich.show(result.results);
            announce(`Run ${result.success ? "finished" : "failed"}: ${result.status || ""}`);
        } catch (e) {
            const stopped = e.name === "AbortError";
            if (stopped) output.note("[stopped]\n");
            summary[stopped ? "stopped" : "failed"](e.message);
            announce(stopped ? "Run stopped" : `Run not started: ${e.message}`);
        } finally {
            handle = null;
            setRunning(false);
        }
    }

    byId("run").addEventListener("click", run);
    byId("stop").addEventListener("click", () => handle && handle.stop());
    bindRunKey(run);
    summary.idle();
    return { run };
}
