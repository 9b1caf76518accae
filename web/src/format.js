// Human-readable sizes and durations for the result summary, file lists and the dashboard.

const kUnits = ["bytes", "KiB", "MiB", "GiB"];

export function formatBytes(n) {
    if (n === null || n === undefined || Number.isNaN(n)) return "—";
    if (n < 1024) return `${n} ${n === 1 ? "byte" : "bytes"}`;
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < kUnits.length - 1) {
        value /= 1024;
        unit += 1;
    }
    return `${value.toFixed(value < 10 ? 2 : 1)} ${kUnits[unit]}`;
}

export function formatSeconds(s) {
    if (s === null || s === undefined || Number.isNaN(s)) return "—";
    if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
    return `${s.toFixed(s < 10 ? 3 : 1)} s`;
}
