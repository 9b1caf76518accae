// The playground's controller: Run/Stop, the request built from the editor and the controls, the
// result shown in the summary, the output pane, the file list and the rich result area.
import { byId } from "./dom.js";
import { load, save } from "./storage.js";

export function createPlayground({ editor, output, summary, inputFiles, outputFiles, rich, transport, announce }) {
    const runButton = byId("run");
    const stopButton = byId("stop");
    const timeout = byId("timeout");
    timeout.value = load("timeout", timeout.value);
    timeout.addEventListener("change", () => save("timeout", timeout.value));
    let handle = null;

    function request() {
        const body = { code: editor.getCode() };
        const seconds = Number.parseInt(timeout.value, 10);
        if (Number.isFinite(seconds)) body.timeout = seconds;
        const files = inputFiles.payload();
        if (files) body.files = files;
        if (editor.language() !== "python") body.language = editor.language();
        return body;
    }

    function setRunning(running) {
        runButton.disabled = running;
        stopButton.disabled = !running;
        document.body.dataset.running = String(running);
    }

    async function run() {
        if (handle) return;
        editor.flush();
        output.clear();
        outputFiles.clear();
        rich.clear();
        summary.running();
        setRunning(true);
        announce("Running");
        handle = transport(request(), { output: (stream, text) => output.append(stream, text) });
        try {
            const result = await handle.done;
            summary.show(result);
            outputFiles.show(result.files);
            rich.show(result.results);
            announce(`Run ${result.success ? "finished" : "failed"}: ${result.status || ""}`);
        } catch (e) {
            if (e.name === "AbortError") {
                summary.stopped();
                output.note("[stopped]\n");
                announce("Run stopped");
            } else {
                summary.failed(e.message);
                announce(`Run not started: ${e.message}`);
            }
        } finally {
            handle = null;
            setRunning(false);
        }
    }

    runButton.addEventListener("click", run);
    stopButton.addEventListener("click", () => handle && handle.stop());
    // Ctrl/Cmd+Enter anywhere on the playground runs (inside the editor, its own keymap does).
    document.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.defaultPrevented &&
            !byId("view-playground").hidden) {
            event.preventDefault();
            run();
        }
    });
    summary.idle();
    return { run };
}
