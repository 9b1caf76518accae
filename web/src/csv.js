// CSV (RFC 4180: quoted fields, "" escapes, CRLF or LF) → rows of strings, for previews.

// Returns {rows, truncated}: at most maxRows rows of at most maxColumns fields.
export function parseCsv(text, { delimiter = ",", maxRows = 100, maxColumns = 50 } = {}) {
    const rows = [];
    let row = [];
    let field = "";
    let quoted = false;
    let i = 0;
    const endField = () => {
        if (row.length < maxColumns) row.push(field);
        field = "";
    };
    const endRow = () => {
        endField();
        rows.push(row);
        row = [];
    };
    if (text.charCodeAt(0) === 0xfeff) i = 1;  // byte order mark
    for (; i < text.length && rows.length < maxRows; i += 1) {
        const c = text[i];
        if (quoted) {
            if (c === '"' && text[i + 1] === '"') {
                field += '"';
                i += 1;
            } else if (c === '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c === '"' && field === "") {
            quoted = true;
        } else if (c === delimiter) {
            endField();
        } else if (c === "\n" || c === "\r") {
            if (c === "\r" && text[i + 1] === "\n") i += 1;
            endRow();
        } else {
            field += c;
        }
    }
    const rest = i < text.length;
    if (!rest && (field !== "" || row.length > 0)) endRow();
    return { rows, truncated: rest };
}
