// The code editor: CodeMirror 6 with Python (JavaScript loaded on demand), line numbers, Tab
// indentation (Esc then Tab leaves the editor), Ctrl/Cmd+Enter to run, code kept per language in
// localStorage.
import { Compartment, EditorState, Prec } from "@codemirror/state";
import {
    EditorView,
    drawSelection,
    highlightActiveLine,
    highlightActiveLineGutter,
    highlightSpecialChars,
    keymap,
    lineNumbers,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
    HighlightStyle,
    bracketMatching,
    indentOnInput,
    indentUnit,
    syntaxHighlighting,
} from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { tags } from "@lezer/highlight";

import { load, save } from "./storage.js";

// Every color ≥ 4.5:1 against the editor's white background (WCAG AA for normal text).
const highlightStyle = HighlightStyle.define([
    { tag: [tags.keyword, tags.controlKeyword, tags.definitionKeyword, tags.moduleKeyword],
        color: "#7a1fa2" },
    { tag: [tags.string, tags.special(tags.string)], color: "#0b6b2e" },
    { tag: [tags.comment, tags.lineComment, tags.blockComment], color: "#5b6168",
        fontStyle: "italic" },
    { tag: [tags.number, tags.bool, tags.null, tags.atom], color: "#1456a8" },
    { tag: [tags.function(tags.definition(tags.variableName)),
        tags.definition(tags.className)], color: "#0b4f9c", fontWeight: "600" },
    { tag: [tags.standard(tags.variableName), tags.self], color: "#8a4b00" },
    { tag: tags.invalid, color: "#b00020" },
]);

const theme = EditorView.theme({
    "&": { height: "100%", fontSize: "14px", backgroundColor: "#ffffff", color: "#1f2328" },
    ".cm-scroller": {
        fontFamily: "ui-monospace, 'DejaVu Sans Mono', 'Liberation Mono', Menlo, monospace",
        lineHeight: "1.5",
    },
    ".cm-content": { caretColor: "#1f2328" },
    ".cm-gutters": { backgroundColor: "#f3f4f6", color: "#4b5563", borderRight: "1px solid #d0d7de" },
    ".cm-activeLine": { backgroundColor: "#eef3fc" },
    ".cm-activeLineGutter": { backgroundColor: "#e1e8f5", color: "#1f2328" },
    "&.cm-focused": { outline: "3px solid #1a56db", outlineOffset: "-3px" },
    "&.cm-focused .cm-selectionBackground, ::selection": { backgroundColor: "#c6dafc" },
    ".cm-selectionBackground": { backgroundColor: "#dbe4f3" },
    "&.cm-focused .cm-matchingBracket": { backgroundColor: "#d7ecd9", outline: "1px solid #0b6b2e" },
});

// Languages the editor knows; JavaScript's grammar is a chunk of its own, fetched when first used.
const kLanguages = {
    python: async () => python(),
    javascript: async () => (await import("@codemirror/lang-javascript")).javascript(),
};

const kSaveDelayMs = 300;

function extensions({ language, runKeys, nonce, describedBy, onChange }) {
    return [
        runKeys,
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        EditorView.lineWrapping,
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        syntaxHighlighting(highlightStyle),
        keymap.of([indentWithTab, ...defaultKeymap, ...historyKeymap]),
        language.of(python()),
        theme,
        EditorView.cspNonce.of(nonce),
        EditorView.contentAttributes.of({
            // Explicit, so checkers (axe) see the scrolling region has focusable content.
            tabindex: "0",
            "aria-label": "Code editor",
            "aria-describedby": describedBy,
        }),
        EditorView.updateListener.of((update) => {
            if (update.docChanged) onChange();
        }),
    ];
}

export function createEditor(parent, { onRun, nonce, defaults, describedBy }) {
    const language = new Compartment();
    let current = "python";
    let saveTimer = 0;
    const codeKey = () => `code.${current}`;
    const flush = () => {
        window.clearTimeout(saveTimer);
        saveTimer = 0;
        save(codeKey(), view.state.doc.toString());
    };
    const onChange = () => {
        window.clearTimeout(saveTimer);
        saveTimer = window.setTimeout(flush, kSaveDelayMs);
    };
    const runKeys = Prec.highest(keymap.of([{ key: "Mod-Enter", run: () => { onRun(); return true; } }]));
    const view = new EditorView({
        parent,
        state: EditorState.create({
            doc: load(codeKey(), defaults.python),
            extensions: extensions({ language, runKeys, nonce, describedBy, onChange }),
        }),
    });
    window.addEventListener("pagehide", flush);
    const replaceAll = (text, effects) =>
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, effects });

    return {
        view,
        getCode: () => view.state.doc.toString(),
        // Replaces the text as one undoable change (Ctrl+Z brings the old code back).
        setCode: (text) => replaceAll(text),
        language: () => current,
        async setLanguage(name) {
            if (!kLanguages[name] || name === current) return;
            flush();
            const support = await kLanguages[name]();
            current = name;
            replaceAll(load(codeKey(), defaults[name] || ""), language.reconfigure(support));
            flush();
        },
        focus: () => view.focus(),
        flush,
    };
}
