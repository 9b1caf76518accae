// Three views, Playground, History and Dashboard, chosen by the URL's fragment (#playground, #history, #dashboard) so
// the browser's back button and bookmarks work. onShow(name) runs when a view appears.
const kViews = ["playground", "history", "dashboard"];

export function setupViews(onShow) {
    function show() {
        const wanted = window.location.hash.replace(/^#/, "");
        const name = kViews.includes(wanted) ? wanted : "playground";
        for (const view of kViews) {
            document.getElementById(`view-${view}`).hidden = view !== name;
            const link = document.getElementById(`nav-${view}`);
            if (view === name) link.setAttribute("aria-current", "page");
            else link.removeAttribute("aria-current");
        }
        document.title = `${name[0].toUpperCase()}${name.slice(1)} · SimplePySandbox`;
        onShow(name);
    }
    window.addEventListener("hashchange", () => {
        show();
        document.getElementById("main").focus();
    });
    show();
}
