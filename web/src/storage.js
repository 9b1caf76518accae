// localStorage that never throws (private modes and disabled storage just forget).

const kPrefix = "pysandbox.ui.";

export function load(key, fallback = null) {
    try {
        const value = window.localStorage.getItem(kPrefix + key);
        return value === null ? fallback : value;
    } catch {
        return fallback;
    }
}

export function save(key, value) {
    try {
        window.localStorage.setItem(kPrefix + key, value);
    } catch {
        // Quota or disabled storage: the page works, the value is just not kept.
    }
}
