// The result summary: status, exit code, wall time, CPU time, peak memory, error and warnings.
import { el, replaceChildren } from "./dom.js";
import { formatBytes, formatSeconds } from "./format.js";

const kStatusText = {
    ok: "Finished",
    error: "Failed",
    timeout: "Timed out",
    memory_limit: "Memory limit exceeded",
    output_limit: "Output limit exceeded",
    cpu_limit: "CPU limit exceeded",
    policy_violation: "Refused by the code policy",
    internal_error: "Sandbox error",
};

// The server's warnings plus the page's own notes on truncated streams.
function notesOf(result) {
    const notes = [...(result.warnings || [])];
    if (result.stdout_truncated) notes.push("stdout was truncated at the server's output limit");
    if (result.stderr_truncated) notes.push("stderr was truncated at the server's output limit");
    return notes;
}

// runId: where the run's id (/execute's run_id, the key to GET /runs/{id}) is shown.
export function createRunSummary({ status, fields, error, warnings, runId }) {
    let timer = 0;
    const set = (name, text) => {
        fields[name].textContent = text;
    };
    const setStatus = (kind, text) => {
        window.clearInterval(timer);
        for (const name of Object.keys(fields)) set(name, "—");
        error.hidden = true;
        warnings.hidden = true;
        runId.hidden = true;
        status.dataset.kind = kind;
        status.textContent = text;
    };
    const setError = (message) => {
        error.textContent = message;
        error.hidden = !message;
    };
    return {
        running() {
            setStatus("running", "Running…");
            const start = performance.now();
            timer = window.setInterval(() => set("time", formatSeconds((performance.now() - start) / 1000)), 100);
        },
        // result: the /execute response.
        show(result) {
            setStatus(result.success ? "ok" : "failed",
                kStatusText[result.status] || result.status || (result.success ? "Finished" : "Failed"));
            set("exit", result.exit_code ?? (result.signal ? `signal ${result.signal}` : "—"));
            set("time", formatSeconds(result.execution_time));
            set("cpu", formatSeconds(result.cpu_time));
            set("memory", formatBytes(result.memory_peak));
            runId.textContent = result.run_id ? `Run id ${result.run_id}` : "";
            runId.hidden = !result.run_id;
            setError(result.error);
            const notes = notesOf(result);
            replaceChildren(warnings, notes.map((w) => el("li", {}, w)));
            warnings.hidden = notes.length === 0;
        },
        stopped: () => setStatus("failed", "Stopped"),
        // A request the server refused (4xx/5xx before the run) or a network failure.
        failed(message) {
            setStatus("failed", "Not run");
            setError(message);
        },
        idle: () => setStatus("idle", "Not run yet"),
    };
}
