// The Prometheus text of GET /metrics, read in the page: successive scrapes give runs per second
// (the increase of pysandbox_runs_total) and the mean run latency over the interval (increase of
// the duration histogram's _sum over that of its _count).

const kLine = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const kLabel = /([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"/g;

// text → [{name, labels, value}] (comments, blank lines and unparsable values skipped).
export function parseMetrics(text) {
    const samples = [];
    for (const line of text.split("\n")) {
        if (!line || line.startsWith("#")) continue;
        const m = kLine.exec(line.trim());
        if (!m) continue;
        const value = Number(m[3]);
        if (Number.isNaN(value)) continue;
        const labels = {};
        for (const [, key, raw] of (m[2] || "").matchAll(kLabel)) labels[key] = raw;
        samples.push({ name: m[1], labels, value });
    }
    return samples;
}

export function total(samples, name) {
    return samples.filter((s) => s.name === name).reduce((sum, s) => sum + s.value, 0);
}

export function snapshotOf(samples, time) {
    return {
        time,
        runs: total(samples, "pysandbox_runs_total"),
        durationSum: total(samples, "pysandbox_run_duration_seconds_sum"),
        durationCount: total(samples, "pysandbox_run_duration_seconds_count"),
    };
}

// Two snapshots → {runsPerSecond, latencyMs} over the interval (0 when nothing ran; a counter
// that went down, i.e. a restarted server, counts from zero).
export function ratesBetween(before, after) {
    const seconds = Math.max(0.001, (after.time - before.time) / 1000);
    const grew = (a, b) => (b >= a ? b - a : b);
    const runs = grew(before.runs, after.runs);
    const count = grew(before.durationCount, after.durationCount);
    const sum = grew(before.durationSum, after.durationSum);
    return { runsPerSecond: runs / seconds, latencyMs: count > 0 ? (sum / count) * 1000 : 0 };
}
