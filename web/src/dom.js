// DOM helpers: elements built with properties and textContent only, never from HTML strings.

// el("a", {href: url, className: "x"}, "text", child) → <a>. Strings become text nodes; attrs
// whose name starts with "aria-" or "data-" (and `for`) are set as attributes, others as
// properties.
export function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (key.startsWith("aria-") || key.startsWith("data-") || key === "for" || key === "role") {
            node.setAttribute(key, value === true ? "" : String(value));
        } else {
            node[key] = value;
        }
    }
    append(node, children);
    return node;
}

function append(node, children) {
    for (const child of children.flat()) {
        if (child === undefined || child === null || child === false) continue;
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
}

// Replaces every child of `node` with `children`.
export function replaceChildren(node, ...children) {
    node.replaceChildren();
    append(node, children);
}

export function byId(id) {
    const node = document.getElementById(id);
    if (!node) throw new Error(`page: #${id} is missing`);
    return node;
}
