// The service's HTTP API as the page uses it: URLs relative to the page (so /ui works behind a
// path prefix), JSON in and out, errors as ApiError with the server's own detail text.

// The API key (AUTH_MODE=api_key): kept in sessionStorage only (gone when the tab closes, never
// in localStorage or a URL) and sent as `Authorization: Bearer` on every request of the page,
// all of which go through here. onUnauthorized runs on every 401 (auth.js asks for a key).
const kKeyItem = "pysandbox.ui.apiKey";
let authKey = readStoredKey();
let onUnauthorized = () => {};

function readStoredKey() {
    try {
        return window.sessionStorage.getItem(kKeyItem);
    } catch {
        return null;
    }
}

export function hasAuthKey() {
    return Boolean(authKey);
}

// key: the new key, or null to forget it (memory and sessionStorage). keep: false uses the key
// without storing it (while it is being checked).
export function setAuthKey(key, { keep = true } = {}) {
    authKey = key || null;
    try {
        if (authKey && keep) window.sessionStorage.setItem(kKeyItem, authKey);
        else window.sessionStorage.removeItem(kKeyItem);
    } catch {
        // Storage disabled: the key lives in this page's memory until it is reloaded.
    }
}

export function setUnauthorizedHandler(handler) {
    onUnauthorized = handler;
}

export function authHeaders() {
    return authKey ? { Authorization: `Bearer ${authKey}` } : {};
}

// "/execute" → absolute URL next to the page: /ui is served at <base>/ui, the API at <base>/.
export function apiUrl(path) {
    return new URL(path.replace(/^\//, ""), document.baseURI).href;
}

export class ApiError extends Error {
    constructor(status, detail, retryAfter = null) {
        super(detail);
        this.name = "ApiError";
        this.status = status;
        this.retryAfter = retryAfter;
    }
}

// {"detail": "text"} or pydantic's {"detail": [{loc, msg}, ...]} → one readable line.
export function describeError(status, body) {
    const detail = body && body.detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
        return detail
            .map((d) => `${(d.loc || []).filter((p) => p !== "body").join(".")}: ${d.msg}`)
            .join("; ");
    }
    return `HTTP ${status}`;
}

async function readJson(response) {
    const text = await response.text();
    try {
        return JSON.parse(text);
    } catch {
        return null;
    }
}

// A refused request as ApiError: 401 and 429 get a sentence a person can act on.
function errorOf(response, body) {
    const detail = describeError(response.status, body);
    if (response.status === 401) {
        onUnauthorized();
        return new ApiError(401, `${detail}: enter a valid API key (HTTP 401)`);
    }
    if (response.status === 429) {
        const after = Number.parseInt(response.headers.get("Retry-After") || "", 10);
        const wait = Number.isFinite(after) ? ` Try again in ${after} s.` : "";
        return new ApiError(429, `${detail} (HTTP 429).${wait}`, Number.isFinite(after) ? after : null);
    }
    return new ApiError(response.status, detail);
}

function send(path, { method = "GET", body, signal, accept = "application/json" } = {}) {
    const headers = { Accept: accept, ...authHeaders() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(apiUrl(path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        credentials: "same-origin",
        cache: "no-store",
    });
}

// GET/POST JSON. Resolves with the parsed body on 2xx; rejects with ApiError otherwise (and
// with the fetch error, e.g. AbortError, when the request did not complete).
export async function requestJson(path, options = {}) {
    const response = await send(path, options);
    const parsed = await readJson(response);
    if (!response.ok) throw errorOf(response, parsed);
    if (parsed === null) throw new ApiError(response.status, "The server's answer is not JSON");
    return parsed;
}

// GET a text resource (the Prometheus text of /metrics).
export async function requestText(path, options = {}) {
    const response = await send(path, { ...options, accept: "text/plain" });
    if (!response.ok) {
        const text = await response.text();
        let parsed = null;
        try {
            parsed = JSON.parse(text);
        } catch {
            // not JSON: the status alone says it
        }
        throw errorOf(response, parsed);
    }
    return response.text();
}
