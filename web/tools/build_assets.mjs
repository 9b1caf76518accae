// Build step: web/src → esbuild (bundled, minified, split, names hashed by content) → one C++ file
// holding every asset, its gzip form and the page (the asset table the binary serves /ui from).
//
// Usage: node build_assets.mjs ESBUILD WEB_DIR WORK_DIR OUT_CPP
//   WORK_DIR must hold node_modules (from `npm ci`). The sources are copied into WORK_DIR/src and
//   esbuild runs there, so no absolute path reaches the output. Writes WORK_DIR/dist (the bundle
//   and index.html as served, with the nonce placeholder) and OUT_CPP (only when it changes),
//   and prints the sizes. Same inputs → same bytes: no time stamps, files in sorted order, gzip
//   with a zero mtime at level 9 (tests/browser/test_bundle_reproducible.py checks it).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { gzipSync } from "node:zlib";

const [esbuild, webDir, buildDir, outCpp] = process.argv.slice(2);
if (!outCpp) {
    console.error("usage: build_assets.mjs ESBUILD WEB_DIR WORK_DIR OUT_CPP");
    process.exit(2);
}
const indexHtml = join(webDir, "index.html");
const staticDir = join(webDir, "static");

// Entry points: the page's first script and its stylesheet; everything else is reached by import.
const kEsbuildArgs = [
    "src/main.js", "src/style.css", "--bundle", "--splitting", "--format=esm", "--minify",
    "--target=es2020", "--outdir=dist/assets", "--entry-names=[name]-[hash]",
    "--chunk-names=[name]-[hash]", "--metafile=meta.json", "--log-level=warning",
];

function bundle() {
    rmSync(join(buildDir, "src"), { recursive: true, force: true });
    rmSync(join(buildDir, "dist"), { recursive: true, force: true });
    cpSync(join(webDir, "src"), join(buildDir, "src"), { recursive: true });
    const run = spawnSync(esbuild, kEsbuildArgs, { cwd: buildDir, stdio: "inherit" });
    if (run.status !== 0) throw new Error(`esbuild failed (${run.error || `status ${run.status}`})`);
}

const kTypes = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
};
const kAssetPrefix = "ui/assets/";  // relative to the page at /ui, so the page works under a path prefix

function sha256(bytes) {
    return createHash("sha256").update(bytes).digest("hex");
}

// gzip's header holds an mtime and an OS byte: zlib writes 0 and the build's OS, so the output
// depends on the bytes in and the level only.
function gzip(bytes) {
    return gzipSync(bytes, { level: 9, memLevel: 9 });
}

function contentType(name) {
    const type = kTypes[extname(name)];
    if (!type) throw new Error(`build_assets: no Content-Type known for ${name}`);
    return type;
}

// esbuild's outputs: name → bytes; entry point (e.g. "src/main.js") → output name.
function bundleOutputs() {
    const meta = JSON.parse(readFileSync(join(buildDir, "meta.json"), "utf8"));
    const files = new Map();
    const entries = new Map();
    for (const [outPath, info] of Object.entries(meta.outputs)) {
        if (outPath.endsWith(".map")) continue;
        const name = basename(outPath);
        files.set(name, readFileSync(join(buildDir, outPath)));
        if (info.entryPoint) entries.set(info.entryPoint, name);
    }
    return { files, entries };
}

// web/static/NAME.EXT → NAME-<hash>.EXT (esbuild names its outputs the same way).
function staticOutputs(files, entries) {
    if (!existsSync(staticDir)) return;
    for (const name of readdirSync(staticDir).sort()) {
        const bytes = readFileSync(join(staticDir, name));
        const ext = extname(name);
        const hashed = `${basename(name, ext)}-${sha256(bytes).slice(0, 8).toUpperCase()}${ext}`;
        files.set(hashed, bytes);
        entries.set(`static/${name}`, hashed);
    }
}

// {{asset:src/main.js}} → ui/assets/main-XXXX.js. The nonce placeholder stays for the server.
function renderPage(entries) {
    const template = readFileSync(indexHtml, "utf8");
    return template.replace(/\{\{asset:([^}]+)\}\}/g, (_, entry) => {
        const name = entries.get(entry);
        if (!name) throw new Error(`build_assets: index.html names ${entry}, which was not built`);
        return kAssetPrefix + name;
    });
}

// A C++ string literal: printable ASCII as is, everything else as a 3-digit octal escape (which
// can never swallow the character after it, unlike \x); a line break every ~100 columns.
function cppLiteral(bytes) {
    const lines = [];
    let line = "";
    for (const b of bytes) {
        if (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c && b !== 0x3f) {
            line += String.fromCharCode(b);
        } else {
            line += "\\" + b.toString(8).padStart(3, "0");
        }
        if (line.length >= 96) {
            lines.push(line);
            line = "";
        }
    }
    if (line || lines.length === 0) lines.push(line);
    return lines.map((l) => `    "${l}"`).join("\n");
}

function cppSource(assets, page) {
    const parts = [
        "// Generated by web/tools/build_assets.mjs from web/: do not edit.",
        '#include "web/ui_assets.h"',
        "",
        "#include <array>",
        "",
        "namespace sbx::web {",
        "",
        "namespace {",
        "",
    ];
    assets.forEach((a, i) => {
        parts.push(`constexpr std::string_view kBody${i}{\n${cppLiteral(a.body)},\n    ${a.body.length}};`);
        parts.push(`constexpr std::string_view kGzip${i}{\n${cppLiteral(a.gzip)},\n    ${a.gzip.length}};`);
    });
    const pageBytes = Buffer.from(page, "utf8");
    parts.push(`constexpr std::string_view kPage{\n${cppLiteral(pageBytes)},\n    ${pageBytes.length}};`);
    parts.push(`constexpr std::array<UiAsset, ${assets.length}> kAssets{{`);
    assets.forEach((a, i) => {
        parts.push(`    {"${a.name}", "${a.type}", "\\"${a.etag}\\"", kBody${i}, kGzip${i}},`);
    });
    parts.push("}};", "", "}  // namespace", "");
    parts.push("std::span<const UiAsset> ui_assets() noexcept { return kAssets; }", "");
    parts.push("std::string_view ui_page_template() noexcept { return kPage; }", "");
    parts.push("}  // namespace sbx::web", "");
    return parts.join("\n");
}

bundle();
const { files, entries } = bundleOutputs();
staticOutputs(files, entries);
const page = renderPage(entries);
const assets = [...files.keys()].sort().map((name) => {
    const body = files.get(name);
    return { name, type: contentType(name), body, gzip: gzip(body), etag: sha256(body).slice(0, 32) };
});
writeFileSync(join(buildDir, "dist", "index.html"), page);

const source = cppSource(assets, page);
if (!existsSync(outCpp) || readFileSync(outCpp, "utf8") !== source) writeFileSync(outCpp, source);

let raw = Buffer.byteLength(page), packed = gzip(Buffer.from(page)).length;
for (const a of assets) {
    raw += a.body.length;
    packed += a.gzip.length;
    console.log(`ui asset ${a.name}: ${a.body.length} bytes, ${a.gzip.length} gzip`);
}
console.log(`ui assets in all (with the page): ${raw} bytes, ${packed} gzip`);
