// The page's first script: lets the browser paint the HTML (header, toolbar, panels, the editor's
// reserved box) before the application's ~400 KB of script are evaluated, then loads it.
const start = () => import("./app.js").then((app) => app.start()).catch((e) => {
    document.getElementById("server-status").textContent = `The page failed to start: ${e.message}`;
});

if (document.visibilityState === "visible") {
    window.requestAnimationFrame(() => window.setTimeout(start, 0));
} else {
    start();  // a background tab gets no animation frames until it is shown
}
