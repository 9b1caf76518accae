// How a run travels: the one seam between the page and the wire protocol.
//
// startRun(request, sink) → {done: Promise<result>, stop()}.
//   request: the /execute body ({code, timeout, files, ...}).
//   sink.output(stream, text): called with "stdout"/"stderr" text as it arrives.
//   done: resolves with the complete /execute response (whose stdout/stderr the sink has
//   already been given), rejects with ApiError (4xx/5xx before the run) or an AbortError.
//   stop(): ends the run; the server cancels a run whose client goes away.
//
// Phase 1 has plain JSON only: the output arrives in one piece at the end. Phase 2 adds
// streaming (SSE or NDJSON, same signature) and interactive runs over GET /ws (handle gains
// sendInput(line) and stop() sends interrupt, then kill); choose() picks by capabilities.
import { requestJson } from "./api.js";

export function startPlainRun(request, sink) {
    const controller = new AbortController();
    const done = requestJson("/execute", { method: "POST", body: request, signal: controller.signal })
        .then((result) => {
            if (result.stdout) sink.output("stdout", result.stdout);
            if (result.stderr) sink.output("stderr", result.stderr);
            return result;
        });
    return { done, stop: () => controller.abort(), sendInput: null };
}

// The transport for this server: capabilities come from capabilities.js.
export function chooseTransport(/* capabilities */) {
    return startPlainRun;
}
