// The API key prompt (AUTH_MODE=api_key). The page asks when a request gets 401: its first
// request (/openapi.json) does under api_key, so the prompt appears up front; /health is public
// and does not say whether keys are needed. The key is checked against /openapi.json before it
// is kept, kept in sessionStorage only (api.js), and "Forget key" drops it.
import { hasAuthKey, requestJson, setAuthKey, setUnauthorizedHandler } from "./api.js";
import { byId } from "./dom.js";

// Tries the key on /openapi.json without storing it; only a 401 means it is refused (a 429 or a
// network error says nothing about the key).
async function keyWorks(key) {
    setAuthKey(key, { keep: false });
    try {
        await requestJson("/openapi.json");
    } catch (e) {
        if (e.status === 401) return false;
    }
    return true;
}

function showState() {
    byId("key-forget").hidden = !hasAuthKey();
    document.body.dataset.auth = hasAuthKey() ? "key" : byId("key-form").hidden ? "none" : "asking";
}

// Shows the prompt with `reason`; focuses the field when the prompt was not shown yet.
function ask(reason, announce) {
    const form = byId("key-form");
    byId("key-message").textContent = reason;
    const wasHidden = form.hidden;
    form.hidden = false;
    showState();
    if (wasHidden) {
        byId("api-key").focus();
        announce(reason);
    }
}

export function createAuth({ announce }) {
    const form = byId("key-form");
    const input = byId("api-key");
    const error = byId("key-error");
    let waiters = [];

    async function accept(event) {
        event.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        if (!(await keyWorks(key))) {
            error.textContent = "The server refused this key (HTTP 401). Check it and try again.";
            error.hidden = false;
            input.select();
            return;
        }
        setAuthKey(key);
        input.value = "";
        error.hidden = true;
        form.hidden = true;
        showState();
        announce("API key accepted");
        const resolved = waiters;
        waiters = [];
        for (const resolve of resolved) resolve();
    }

    setUnauthorizedHandler(() => {
        const had = hasAuthKey();
        setAuthKey(null);  // a refused key is of no further use
        ask(had ? "The server refused the API key (revoked or wrong, HTTP 401). Enter another."
                : "This server needs an API key (HTTP 401). Enter yours to use the page.", announce);
    });
    form.addEventListener("submit", accept);
    byId("key-forget").addEventListener("click", () => {
        setAuthKey(null);
        ask("Key forgotten: it is no longer kept in this tab. Enter a key to go on.", announce);
    });
    showState();
    return {
        // Resolves once a key has been accepted (after a 401 asked for one).
        accepted: () => new Promise((resolve) => waiters.push(resolve)),
    };
}
