// Example programs offered in the toolbar (and the first program a visitor sees).

export const kExamples = [
    {
        id: "hello",
        title: "Hello: stdout and stderr",
        code: `# Ctrl+Enter (Cmd+Enter on a Mac) runs the program.
import sys

print("Hello from the sandbox!")
print("Errors and warnings go to stderr", file=sys.stderr)
for i in range(3):
    print(f"line {i}")
`,
    },
    {
        id: "csv",
        title: "Read an input CSV, write a summary",
        code: `# Add a CSV file with "Add files" (or drop one on the files area), then run.
import csv, glob, os

names = sorted(glob.glob("*.csv"))
if not names:
    with open("sample.csv", "w", newline="") as f:
        csv.writer(f).writerows([["city", "temp"], ["Oslo", 4], ["Lima", 19], ["Pune", 31]])
    names = ["sample.csv"]
rows = list(csv.DictReader(open(names[0], newline="")))
print(f"{names[0]}: {len(rows)} rows, columns {list(rows[0]) if rows else []}")
with open("summary.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["column", "non-empty values"])
    for col in (rows[0] if rows else {}):
        w.writerow([col, sum(1 for r in rows if r[col])])
print("wrote summary.csv")
`,
    },
    {
        id: "plot",
        title: "Draw a chart (matplotlib → PNG)",
        code: `import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 2 * np.pi, 200)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(x, np.sin(x), label="sin")
ax.plot(x, np.cos(x), label="cos")
ax.legend()
ax.set_title("Made in the sandbox")
fig.savefig("plot.png", dpi=100, bbox_inches="tight")
print("saved plot.png")
`,
    },
    {
        id: "report",
        title: "An HTML report (shown sandboxed)",
        code: `import pandas as pd

df = pd.DataFrame({"language": ["Python", "JavaScript"], "runs": [42, 7]})
with open("report.html", "w") as f:
    f.write("<h1>Report</h1>" + df.to_html(index=False))
print(df)
`,
    },
];

export const kDefaultCode = { python: kExamples[0].code, javascript: 'console.log("Hello from the sandbox!");\n' };
