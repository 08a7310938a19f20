"""The Markdown table and results.json of a run: first the rows that have a
target of issue 10 (met or not), then every stage's rows, notes and skip
reasons. Values are medians; the runs column lists every run."""

import json

from .results import KINDS

UNIT_FMT = {"ops/s": "{:,.0f}", "us": "{:,.0f}", "MiB": "{:,.0f}", "KiB": "{:,.2f}", "s": "{:,.2f}",
            "x": "{:.2f}", "count": "{:,.0f}"}


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "us" and abs(v) < 10:  # CPU per op: a few microseconds
        return "{:.2f}".format(v)
    return UNIT_FMT.get(unit, "{:.3g}").format(v)


def fmt_runs(vals, unit):
    if unit == "ops/s":
        return " / ".join("-" if v is None else ("%.0fk" % (v / 1000) if v >= 10000 else "%.0f" % v) for v in vals)
    return " / ".join(fmt(v, unit) for v in vals)


def fmt_target(row):
    t = row["target"]
    if not t:
        return ""
    what = "Aviary / ZK" if t["applies_to"] == "ratio" else "Aviary"
    val = ("%.2f" % t["value"]).rstrip("0").rstrip(".") if t["applies_to"] == "ratio" or row["unit"] == "x" \
        else fmt(t["value"], row["unit"])
    mark = {True: " ✓", False: " ✗", None: " ?"}[row["met"]]
    return "%s %s %s%s" % (what, t["op"].replace(">=", "≥").replace("<=", "≤"), val, mark)


def row_line(row, stage_title=None):
    unit = row["unit"]
    cells = ([stage_title] if stage_title is not None else []) + [
        "%s (%s)" % (row["measure"], unit), fmt(row["median"]["aviary"], unit), fmt(row["median"]["zookeeper"], unit),
        "**%.2f**" % row["ratio"] if row["ratio"] is not None else "-", fmt_target(row),
        "; ".join(fmt_runs(row["runs"][k], unit) for k in KINDS)]
    return "| " + " | ".join(cells) + " |"


def markdown(stages):
    out = ["### Targets of issue 10", "",
           "| stage | measure | Aviary | ZooKeeper | Aviary / ZK | target | runs Aviary; ZooKeeper |",
           "|---|---|---:|---:|---:|---|---|"]
    for st in stages:
        out += [row_line(r, st.name) for r in st.rows if r["target"]]
    for st in stages:
        out += ["", "### %s (`%s`)" % (st.title, st.name), ""]
        if st.status != "ok":
            out.append("**%s**: %s" % (st.status, st.reason))
        if st.rows:
            out += ["| measure | Aviary | ZooKeeper | Aviary / ZK | target | runs Aviary; ZooKeeper |",
                    "|---|---:|---:|---:|---|---|"]
            out += [row_line(r) for r in st.rows]
        if st.seconds is not None:
            out.append("")
            out.append("%.0f s, load average %s at the start, %s at the end."
                       % (st.seconds, st.load.get("start"), st.load.get("end")))
        out += ["- " + n for n in st.notes]
    return "\n".join(out) + "\n"


def write(path_json, path_md, meta, stages):
    """results.json (every raw run), summary.json beside it (the same
    without the raw runs) and table.md."""
    full = {"meta": meta, "stages": [s.to_json() for s in stages]}
    with open(path_json, "w") as f:
        json.dump(full, f, indent=1)
    for st in full["stages"]:
        st.pop("raw")
    with open(path_json.replace("results.json", "summary.json"), "w") as f:
        json.dump(full, f, indent=1)
    with open(path_md, "w") as f:
        f.write(markdown(stages))
