"""Reports for facilitators and for people outside the facilitator team, and certificates.

- `write_csv`: one row per learner and module (score, max, complete, submitted at, late).
- `write_html`: a self-contained page to open or email: completion table, a learner x module
  heatmap and a per-question difficulty chart (PNG images embedded, with text alternatives).
- `write_share`: the aggregate report for outsiders: no names, ids or emails, and no count
  below the minimum cell size (`CourseSettings.min_cell_size`, default 10), including counts
  that could be worked out from a total (complementary suppression).
- `write_certificates`: one HTML (and PDF) certificate per learner who completed every module.
"""

from __future__ import annotations

import base64
import csv
import io
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from privacy_course.authoring.build import module_ids
from privacy_course.coursedir import Cohort
from privacy_course.facilitator.completion import COMPLETE, SYMBOLS, LearnerRow, completion

CSV_COLUMNS = ["learner", "first_name", "last_name", "module", "state", "score", "max_score",
               "complete", "submitted_at", "late", "scenarios_done", "scenarios_total", "flags"]


def _iso(value: datetime | None) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if value else ""


def write_csv(rows: list[LearnerRow], modules: list[str], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            for module_id in modules:
                r = row.results[module_id]
                writer.writerow([row.id, row.first_name, row.last_name, module_id, r.state,
                                 "" if r.score is None else r.score,
                                 "" if r.max_score is None else r.max_score,
                                 "yes" if r.complete else "no", _iso(r.submitted_at),
                                 "yes" if r.late else "no", r.scenarios_done, r.scenarios_total,
                                 "; ".join(r.flags)])
    return path


def question_difficulty(cohort: Cohort, modules: list[str]) -> list[dict[str, Any]]:
    """For every graded check: how many graded submissions there are and how many missed it.

    One aggregate query over nbgrader's ORM classes (walking submission -> notebook -> grade
    objects issued one query per grade: minutes for a cohort of thousands)."""
    from nbgrader.api import Assignment, BaseCell, Grade, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import case, func

    counts: dict[str, dict[str, tuple[int, int]]] = {m: {} for m in modules}
    with cohort.gradebook() as gb:
        missed = case((func.coalesce(Grade.score, 0.0) < Grade.max_score, 1), else_=0)
        query = (gb.db.query(Assignment.name, BaseCell.name, func.count(Grade.id),
                             func.sum(missed))
                 .select_from(Grade)
                 .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
                 .join(SubmittedAssignment,
                       SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                 .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                 .join(BaseCell, Grade.cell_id == BaseCell.id)
                 .filter(Assignment.name.in_(modules), Grade.max_score > 0)
                 .group_by(Assignment.name, BaseCell.name))
        for module_id, name, graded, missed_count in query:
            counts[module_id][name] = (int(graded), int(missed_count or 0))
    out = []
    for module_id in modules:
        for name, (graded, missed_count) in sorted(counts[module_id].items()):
            out.append({"module": module_id, "check": name, "graded": graded,
                        "missed": missed_count})
    return out


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


HEATMAP_LABELLED_ROWS = 200


def _heatmap(rows: list[LearnerRow], modules: list[str], label: Any) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    states = list(SYMBOLS)
    grid = [[states.index(r.results[m].state) for m in modules] for r in rows]
    colours = ["#1b7837", "#e08214", "#fdb863", "#b2abd2", "#b2182b", "#f0f0f0"]
    # Beyond HEATMAP_LABELLED_ROWS learners the image keeps that height and drops the per-row
    # labels and symbols (the table below has them): one row per learner at full height would
    # exceed matplotlib's largest image (2**16 pixels) from about 1,900 learners.
    labelled = len(rows) <= HEATMAP_LABELLED_ROWS
    height = 0.8 + 0.32 * (max(len(rows), 1) if labelled else HEATMAP_LABELLED_ROWS)
    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * len(modules), height))
    ax.imshow(grid or [[len(states) - 1] * len(modules)], cmap=ListedColormap(colours),
              vmin=0, vmax=len(states) - 1, aspect="auto")
    ax.set_xticks(range(len(modules)), [m.split("-")[0] for m in modules])
    if labelled:
        ax.set_yticks(range(len(rows)), [label(r) for r in rows])
        for y, r in enumerate(rows):
            for x, m in enumerate(modules):
                ax.text(x, y, SYMBOLS[r.results[m].state], ha="center", va="center",
                        fontsize=7)
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"{len(rows)} learners, one row each, in the order of the table below")
    ax.set_title("Completion by learner and module")
    png = _png(fig)
    plt.close(fig)
    return png


def _difficulty_chart(difficulty: list[dict[str, Any]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [f"{d['module'].split('-')[0]} {d['check']}" for d in difficulty]
    shares = [d["missed"] / d["graded"] if d["graded"] else 0 for d in difficulty]
    fig, ax = plt.subplots(figsize=(7, 0.6 + 0.28 * max(len(names), 1)))
    ax.barh(range(len(names)), shares, color="#2166ac")
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("Share of graded learners who missed the check")
    ax.set_title("Which checks learners miss")
    png = _png(fig)
    plt.close(fig)
    return png


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;color:#1d2731}}
table{{border-collapse:collapse}}th,td{{border:1px solid #999;padding:.25em .5em;text-align:left}}
th{{background:#eef1f4}}img{{max-width:100%}}.note{{color:#444}}</style></head>
<body><main>{body}</main></body></html>
"""


def write_html(cohort: Cohort, rows: list[LearnerRow], modules: list[str], path: Path) -> Path:
    settings = cohort.settings
    difficulty = question_difficulty(cohort, modules)
    complete_all = sum(1 for r in rows if r.course_complete)
    head = "".join(f"<th scope='col'>{escape(m)}</th>" for m in modules)
    body_rows = []
    for r in rows:
        cells = "".join(
            f"<td>{escape(r.results[m].state)}"
            + (f" ({r.results[m].score:g}/{r.results[m].max_score:g})"
               if r.results[m].score is not None else "")
            + (" late" if r.results[m].late else "")
            + "".join(f"<br><strong>Flag:</strong> {escape(f)}" for f in r.results[m].flags)
            + "</td>" for m in modules)
        body_rows.append(f"<tr><th scope='row'>{escape(r.name)} ({escape(r.id)})</th>{cells}"
                         "</tr>")
    hardest = sorted(difficulty, key=lambda d: -(d["missed"] / d["graded"] if d["graded"] else 0))
    hard_items = "".join(
        f"<li>{escape(d['module'])} / {escape(d['check'])}: missed by {d['missed']} of "
        f"{d['graded']}</li>" for d in hardest[:5] if d["missed"])
    body = (
        f"<h1>{escape(settings.title)}: cohort {escape(cohort.name)}</h1>"
        f"<p class='note'>Written {escape(datetime.now().strftime('%Y-%m-%d %H:%M'))}. Pass mark "
        f"{settings.pass_mark:.0%}. Contains learners' names: for the facilitator team only.</p>"
        f"<p>{len(rows)} learners; {complete_all} completed every module.</p>"
        "<h2>Completion</h2>"
        f"<img alt='Heatmap of completion: one row per learner, one column per module; the same "
        f"information as the table below.' src='data:image/png;base64,"
        f"{_heatmap(rows, modules, lambda r: r.id)}'>"
        f"<table><thead><tr><th scope='col'>Learner</th>{head}</tr></thead><tbody>"
        + "".join(body_rows) + "</tbody></table>"
        "<h2>Check difficulty</h2>"
        "<p>Share of graded learners who missed each check: a high share points at content to "
        "improve.</p>"
        f"<img alt='Bar chart of the share of learners who missed each check; the hardest are "
        f"listed below.' src='data:image/png;base64,{_difficulty_chart(difficulty)}'>"
        f"<ul>{hard_items or '<li>No check was missed.</li>'}</ul>"
    )
    path.write_text(PAGE.format(title=escape(f"Cohort {cohort.name}"), body=body),
                    encoding="utf-8")
    return path


def suppressed(count: int, total: int, min_cell: int) -> bool:
    """A count may be shown only if it and its complement within the shown total are both at
    least `min_cell`: otherwise the small one could be worked out by subtraction. (So 0 and
    "everyone" are suppressed too: they tell something about every member of the group.)"""
    return count < min_cell or (total - count) < min_cell


def _cell(count: int, total: int, min_cell: int) -> str:
    if suppressed(count, total, min_cell):
        return "suppressed"
    return f"{count} ({count / total:.0%})"


def share_rows(rows: list[LearnerRow], modules: list[str], min_cell: int
               ) -> list[dict[str, str]]:
    out = []
    enrolled = len(rows)
    for module_id in modules:
        submitted = sum(1 for r in rows if r.results[module_id].state != "not submitted")
        complete = sum(1 for r in rows if r.results[module_id].state == COMPLETE)
        out.append({
            "module": module_id,
            "enrolled": str(enrolled) if enrolled >= min_cell else f"fewer than {min_cell}",
            "submitted": _cell(submitted, enrolled, min_cell),
            "complete": _cell(complete, enrolled, min_cell),
        })
    return out


def write_share(cohort: Cohort, rows: list[LearnerRow], modules: list[str], path: Path) -> Path:
    """The aggregate report for outside the facilitator team (HTML and CSV beside it)."""
    settings = cohort.settings
    min_cell = settings.min_cell_size
    table = share_rows(rows, modules, min_cell)
    difficulty = question_difficulty(cohort, modules)
    with path.with_suffix(".csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["module", "enrolled", "submitted", "complete"])
        writer.writeheader()
        writer.writerows(table)
    trs = "".join(f"<tr><th scope='row'>{escape(t['module'])}</th><td>{escape(t['enrolled'])}"
                  f"</td><td>{escape(t['submitted'])}</td><td>{escape(t['complete'])}</td></tr>"
                  for t in table)
    checks = "".join(
        f"<tr><td>{escape(d['module'])}</td><td>{escape(d['check'])}</td>"
        f"<td>{escape(_cell(d['missed'], d['graded'], min_cell))}</td></tr>" for d in difficulty)
    body = (
        f"<h1>{escape(settings.title)}: aggregate report</h1>"
        f"<p class='note'>No names, ids or email addresses. Counts below {min_cell}, and counts "
        f"that could be worked out from a total, are shown as 'suppressed' (minimum cell size "
        f"{min_cell}, the most common state minimum reporting size, NCES 2011-603).</p>"
        "<h2>Completion by module</h2><table><thead><tr><th scope='col'>Module</th>"
        "<th scope='col'>Enrolled</th><th scope='col'>Submitted</th><th scope='col'>Complete"
        f"</th></tr></thead><tbody>{trs}</tbody></table>"
        "<h2>Checks missed</h2><table><thead><tr><th scope='col'>Module</th><th scope='col'>"
        f"Check</th><th scope='col'>Missed</th></tr></thead><tbody>{checks}</tbody></table>"
    )
    path.write_text(PAGE.format(title="Aggregate report", body=body), encoding="utf-8")
    return path


CERTIFICATE = """<h1>Certificate of completion</h1>
<p>This certifies that</p><p style="font-size:1.6em"><strong>{name}</strong></p>
<p>completed <em>{title}</em> with cohort {cohort} on {date}:
{count} modules, {hours:g} hours.</p><ul>{modules}</ul>"""


def write_certificates(cohort: Cohort, rows: list[LearnerRow], modules: list[str],
                       folder: Path) -> list[Path]:
    """One certificate per learner who completed every module: HTML, plus PDF (fpdf2)."""
    settings = cohort.settings
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for row in rows:
        if not row.course_complete:
            continue
        finished = max(r.submitted_at for r in row.results.values() if r.submitted_at)
        fields = {
            "name": row.name, "title": settings.title, "cohort": cohort.name,
            "date": finished.strftime("%B %d, %Y"), "count": len(modules),
            "hours": round(settings.hours_per_module * len(modules), 2),
        }
        html_path = folder / f"certificate-{row.id}.html"
        items = "".join(f"<li>{escape(m)}</li>" for m in modules)
        html_body = CERTIFICATE.format(**{k: escape(str(v)) if isinstance(v, str) else v
                                          for k, v in fields.items()}, modules=items)
        html_path.write_text(PAGE.format(title=escape(f"Certificate: {row.name}"),
                                         body=html_body), encoding="utf-8")
        written.append(html_path)
        written.append(_certificate_pdf(folder / f"certificate-{row.id}.pdf", fields, modules))
    return written


def _certificate_pdf(path: Path, fields: dict[str, Any], modules: list[str]) -> Path:
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", format="Letter")
    pdf.set_title(f"Certificate: {fields['name']}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 28)
    pdf.cell(0, 24, "Certificate of completion", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 14)
    pdf.cell(0, 10, "This certifies that", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 22)
    pdf.cell(0, 16, _latin1(fields["name"]), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 13)
    pdf.multi_cell(0, 8, _latin1(
        f"completed {fields['title']} with cohort {fields['cohort']} on {fields['date']}: "
        f"{fields['count']} modules, {fields['hours']:g} hours."), align="C")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 6, _latin1(", ".join(modules)), align="C")
    pdf.output(str(path))
    return path


def _latin1(text: str) -> str:
    """The PDF core fonts cover Latin-1; anything else is replaced rather than crashing."""
    return text.encode("latin-1", "replace").decode("latin-1")


def report(cohort: Cohort, out: Path, share: bool = False) -> list[Path]:
    """Write the facilitator's CSV and HTML report (or, with `share`, the aggregate one)."""
    modules = module_ids(cohort.root)
    rows = completion(cohort)
    out.mkdir(parents=True, exist_ok=True)
    if share:
        page = write_share(cohort, rows, modules, out / f"{cohort.name}-shared.html")
        return [page, page.with_suffix(".csv")]
    return [write_csv(rows, modules, out / f"{cohort.name}-report.csv"),
            write_html(cohort, rows, modules, out / f"{cohort.name}-report.html")]
