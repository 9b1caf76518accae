// What this server offers, read from its own OpenAPI document and /runtime, so the page turns on
// a feature only where the server has it (the API grows issue by issue).
import { requestJson } from "./api.js";

export const kNoCapabilities = Object.freeze({
    languages: ["python"],
    paths: new Set(),
    streaming: false,    // /execute with Accept: text/event-stream (issue 13)
    websocket: false,    // GET /ws (issue 13)
    sessions: false,     // /sessions (issue 14)
    history: false,      // /runs (issue 16)
    metrics: false,      // /metrics (issue 16)
});

// /runtime's languages, whichever of the likely shapes it takes: a list of names, a list of
// {name}, or an object keyed by name. Python is always there.
export function languagesOf(runtime) {
    const raw = runtime && runtime.languages;
    let names = [];
    if (Array.isArray(raw)) names = raw.map((l) => (typeof l === "string" ? l : l && l.name));
    else if (raw && typeof raw === "object") names = Object.keys(raw);
    return ["python", ...names.filter((n) => typeof n === "string" && n !== "python")];
}

export function capabilitiesOf(openapi, runtime) {
    const paths = new Set(Object.keys((openapi && openapi.paths) || {}));
    const execute = paths.has("/execute") && JSON.stringify(openapi.paths["/execute"]);
    return Object.freeze({
        languages: languagesOf(runtime),
        paths,
        streaming: Boolean(execute && execute.includes("text/event-stream")),
        websocket: paths.has("/ws"),
        sessions: paths.has("/sessions"),
        history: paths.has("/runs"),
        metrics: paths.has("/metrics"),
    });
}

// needsKey: the server answered 401 (AUTH_MODE=api_key and no valid key yet).
export async function loadCapabilities() {
    let needsKey = false;
    const refused = (e) => {
        if (e && e.status === 401) needsKey = true;
        return null;
    };
    const [openapi, runtime] = await Promise.all([
        requestJson("/openapi.json").catch(refused),
        requestJson("/runtime").catch(refused),
    ]);
    return { capabilities: capabilitiesOf(openapi, runtime), runtime, needsKey };
}
