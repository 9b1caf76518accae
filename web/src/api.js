// The service's HTTP API as the page uses it: URLs relative to the page (so /ui works behind a
// path prefix), JSON in and out, errors as ApiError with the server's own detail text.

// Phase 2 (API keys): returns the Authorization header from sessionStorage once the page has
// asked for a key. Every request of the page goes through here, so that is the one place.
let authKey = null;

export function setAuthKey(key) {
    authKey = key || null;
}

export function authHeaders() {
    return authKey ? { Authorization: `Bearer ${authKey}` } : {};
}

// "/execute" → absolute URL next to the page: /ui is served at <base>/ui, the API at <base>/.
export function apiUrl(path) {
    return new URL(path.replace(/^\//, ""), document.baseURI).href;
}

export class ApiError extends Error {
    constructor(status, detail) {
        super(detail);
        this.name = "ApiError";
        this.status = status;
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

// GET/POST JSON. Resolves with the parsed body on 2xx; rejects with ApiError otherwise (and
// with the fetch error, e.g. AbortError, when the request did not complete).
export async function requestJson(path, { method = "GET", body, signal } = {}) {
    const headers = { Accept: "application/json", ...authHeaders() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(apiUrl(path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        credentials: "same-origin",
        cache: "no-store",
    });
    const parsed = await readJson(response);
    if (!response.ok) throw new ApiError(response.status, describeError(response.status, parsed));
    if (parsed === null) throw new ApiError(response.status, "The server's answer is not JSON");
    return parsed;
}
