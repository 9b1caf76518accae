// The dashboard: health and isolation layers, runs running/queued/prepared, the Python runtime and
// its packages (GET /health, GET /runtime), and activity charts. /health (and /metrics, when the
// server offers it) is polled every 2 s while the dashboard is shown (and the tab visible); runs
// per second and latency come from successive /metrics scrapes (metrics.js).
import { requestJson, requestText } from "./api.js";
import { createChart } from "./chart.js";
import { byId, el, replaceChildren } from "./dom.js";
import { parseMetrics, ratesBetween, snapshotOf } from "./metrics.js";

const kPollMs = 2000;

function definitionList(node, pairs) {
    replaceChildren(node, pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}

function renderLayers(layers) {
    const body = byId("layers-body");
    replaceChildren(body, (layers || []).map((l) => el("tr", {},
        el("th", { scope: "row" }, l.name),
        el("td", { className: l.active ? "yes" : "no" }, l.active ? "active" : "inactive"),
        el("td", {}, l.detail || ""))));
    byId("layers-empty").hidden = (layers || []).length > 0;
}

function renderRuns(runs) {
    const meters = [
        ["running", runs.running, runs.capacity, "Running"],
        ["queued", runs.queued, runs.queue_capacity, "Queued"],
    ];
    for (const [key, value, max, label] of meters) {
        const meter = byId(`meter-${key}`);
        meter.max = Math.max(1, max || 1);
        meter.value = value || 0;
        byId(`meter-${key}-text`).textContent = `${label}: ${value ?? "—"} of ${max ?? "—"}`;
    }
    byId("runs-prepared").textContent = String(runs.prepared ?? "—");
}

function renderHealth(health) {
    const status = byId("health-status");
    status.textContent = health.status;
    status.dataset.kind = health.status === "healthy" ? "ok" : "failed";
    definitionList(byId("health-summary"), [
        ["Run mode", health.run_mode || "—"],
        ["Python", (health.python && health.python.version) || "—"],
        ["Checked at", health.timestamp ? new Date(health.timestamp).toLocaleTimeString() : "—"],
    ]);
    const reasons = byId("health-reasons");
    replaceChildren(reasons, (health.reasons || []).map((r) => el("li", {}, r)));
    reasons.hidden = !(health.reasons || []).length;
    renderLayers(health.layers);
    if (health.runs) renderRuns(health.runs);
}

function renderRuntime(runtime) {
    const packages = Object.entries((runtime && runtime.packages) || {}).sort(([a], [b]) => a.localeCompare(b));
    byId("python-version").textContent = (runtime && runtime.python_version) || "—";
    replaceChildren(byId("packages-body"), packages.map(([name, version]) =>
        el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, version))));
}

// Scrapes /metrics and pushes runs/s and mean latency since the previous scrape to the charts.
function createMetricsFeed(container) {
    const note = byId("metrics-note");
    let charts = null;
    let previous = null;
    return async function scrape() {
        try {
            const now = snapshotOf(parseMetrics(await requestText("/metrics")), Date.now());
            if (!charts) {
                container.append(el("h4", {}, "Runs per second"));
                const rate = createChart(container, { title: "Runs per second", unit: "/s",
                    series: [{ name: "runs/s", color: "#1a7f37" }] });
                container.append(el("h4", {}, "Mean run latency (wall time of the runs that ended)"));
                charts = {
                    rate,
                    latency: createChart(container, { title: "Mean run latency", unit: " ms",
                        series: [{ name: "latency (ms)", color: "#8250df" }] }),
                };
                container.dataset.drawn = "true";
            }
            if (previous) {
                const { runsPerSecond, latencyMs } = ratesBetween(previous, now);
                charts.rate.push([Math.round(runsPerSecond * 100) / 100]);
                charts.latency.push([Math.round(latencyMs * 10) / 10]);
            }
            previous = now;
            note.hidden = true;
        } catch (e) {
            note.textContent = `Could not read /metrics: ${e.message}`;
            note.hidden = false;
        }
    };
}

export function createDashboard({ capabilities, onHealth }) {
    const activity = createChart(byId("chart-activity"), {
        title: "Runs in progress",
        series: [{ name: "running", color: "#1a56db" }, { name: "queued", color: "#b45309" }],
    });
    byId("metrics-note").hidden = capabilities.metrics;
    const scrape = capabilities.metrics ? createMetricsFeed(byId("chart-metrics")) : async () => {};
    let timer = 0;
    let visible = false;

    async function refresh() {
        try {
            const [health] = await Promise.all([requestJson("/health"), scrape()]);
            renderHealth(health);
            if (health.runs) activity.push([health.runs.running, health.runs.queued]);
            byId("dashboard-error").hidden = true;
            onHealth(health);
        } catch (e) {
            const error = byId("dashboard-error");
            error.textContent = `Could not read /health: ${e.message}`;
            error.hidden = false;
        }
    }

    function schedule() {
        window.clearTimeout(timer);
        if (visible && document.visibilityState === "visible") {
            timer = window.setTimeout(async () => {
                await refresh();
                schedule();
            }, kPollMs);
        }
    }
    document.addEventListener("visibilitychange", schedule);

    return {
        async show() {
            visible = true;
            await Promise.all([refresh(), requestJson("/runtime").then(renderRuntime).catch(() => {})]);
            schedule();
        },
        hide() {
            visible = false;
            window.clearTimeout(timer);
        },
    };
}
