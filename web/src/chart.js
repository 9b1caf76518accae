// A small SVG line chart over a sliding window (the dashboard's activity charts). Built with DOM
// calls; its accessible name states the latest values, for readers who cannot see the lines.
import { el } from "./dom.js";

const kSvg = "http://www.w3.org/2000/svg";
const kWidth = 1000;
const kHeight = 180;
const kPad = { left: 36, right: 8, top: 8, bottom: 18 };

function svg(tag, attrs = {}) {
    const node = document.createElementNS(kSvg, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
}

// series: [{name, color}]; points kept: `window`; unit: appended to the numbers in labels.
export function createChart(container, { title, series, window: size = 150, unit = "" }) {
    const data = series.map(() => []);
    const plot = svg("svg", { viewBox: `0 0 ${kWidth} ${kHeight}`, class: "chart", role: "img" });
    const legend = el("ul", { className: "legend" }, series.map((s) =>
        el("li", {}, el("span", { className: "swatch", "data-color": s.color }), s.name)));
    for (const swatch of legend.querySelectorAll(".swatch")) swatch.style.backgroundColor = swatch.dataset.color;
    container.append(plot, legend);

    function render() {
        const max = Math.max(1, ...data.flat());
        const x = (i) => kPad.left + (i * (kWidth - kPad.left - kPad.right)) / Math.max(1, size - 1);
        const y = (v) => kHeight - kPad.bottom - (v / max) * (kHeight - kPad.top - kPad.bottom);
        const nodes = [
            svg("line", { x1: kPad.left, x2: kWidth - kPad.right, y1: y(0), y2: y(0), class: "axis" }),
            svg("line", { x1: kPad.left, x2: kWidth - kPad.right, y1: y(max), y2: y(max), class: "grid" }),
        ];
        const top = svg("text", { x: kPad.left - 4, y: y(max) + 4, class: "tick" });
        top.textContent = max >= 1000 ? `${Math.round(max / 100) / 10}k` : String(Math.round(max * 100) / 100);
        const zero = svg("text", { x: kPad.left - 4, y: y(0) + 4, class: "tick" });
        zero.textContent = "0";
        nodes.push(top, zero);
        data.forEach((points, s) => {
            if (points.length === 0) return;
            const offset = size - points.length;
            const d = points.map((v, i) => `${i === 0 ? "M" : "L"}${x(i + offset).toFixed(1)},${y(v).toFixed(1)}`).join("");
            nodes.push(svg("path", { d, fill: "none", stroke: series[s].color, "stroke-width": 2 }));
        });
        plot.replaceChildren(...nodes);
        const latest = series.map((s, i) => `${s.name} ${data[i].length ? data[i][data[i].length - 1] : "no data"}${unit}`);
        plot.setAttribute("aria-label", `${title}: ${latest.join(", ")}`);
    }

    render();
    return {
        // values: one number per series, in the series' order.
        push(values) {
            values.forEach((v, i) => {
                data[i].push(Number.isFinite(v) ? v : 0);
                if (data[i].length > size) data[i].shift();
            });
            render();
        },
    };
}
