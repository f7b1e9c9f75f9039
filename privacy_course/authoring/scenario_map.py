"""Scenario maps: each scenario drawn as a graph, for maintainers and facilitators.

One SVG per scenario, `modules/<id>/maps/<scenario>.svg`, written by `privacy-course build`
(and `privacy-course scenario-map`), shown in the module's facilitator guide so that a
facilitator can lead the discussion of each branch. Decisions are boxes (the step id and its
question), endings are boxes at the bottom with their outcome and title, and each choice is an
arrow labelled with its verdict and id. Verdicts differ by line style as well as colour (best
solid, acceptable dashed, risky dotted) and the label says the verdict in words, so the map
reads in black and white too. Every SVG carries a title and a text description (`describe`),
which the facilitator guide also uses as the image's alt text.

The layout is a plain layered drawing written with the standard library's XML writer (no
Graphviz to install): steps by their distance from the first step, endings on the last row,
each row ordered by where its parents sit. Maps are not shipped to learners.
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from privacy_course.authoring.content import load_module_content
from privacy_course.authoring.scenario_graph import (
    END,
    is_ending,
    reachable,
    steps_by_id,
)

MAPS_DIR = "maps"
Box = tuple[float, float, float, float]  # a drawn step: x, y, width, height
NODE_WIDTH = 230
LINE_HEIGHT = 15
ROW_GAP = 120
COLUMN_GAP = 60
MARGIN = 30
WRAP = 32
STYLE = {  # verdict: (colour, dash pattern, word)
    "best": ("#1e6b36", "", "best"),
    "acceptable": ("#8a5a00", "8 4", "acceptable"),
    "risky": ("#a4161a", "2 4", "risky"),
}
OUTCOME_FILL = {"good": "#e3f1e6", "mixed": "#fbf0d9", "poor": "#f8e1e1", "": "#eeeeee"}
OUTCOME_WORD = {"good": "good outcome", "mixed": "mixed outcome", "poor": "poor outcome",
                "": "finished"}


def varies_with(step: dict[str, Any]) -> list[str]:
    """The facts whose recorded values change what this step or ending says."""
    variants = [*step.get("variants", []), *step.get("ending", {}).get("variants", [])]
    return sorted({fact for v in variants for fact in v["when"]})


def _sets(made: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in made.get("sets", {}).items())


def _label_lines(step: dict[str, Any]) -> list[str]:
    if is_ending(step):
        ending = step["ending"]
        head = f"ENDING ({OUTCOME_WORD[ending['outcome']]})"
        lines = [head, *textwrap.wrap(ending["title"], WRAP)[:3]]
    else:
        lines = [f"{step['id']}", *textwrap.wrap(step["question"], WRAP)[:3]]
    if varies_with(step):
        lines.append(f"(varies with: {', '.join(varies_with(step))})")
    return lines


def _rows(scenario: dict[str, Any]) -> list[list[str]]:
    """Node ids by row: decisions by breadth-first distance, endings on the last row, each row
    ordered by the mean position of its parents (a single barycentre pass)."""
    steps = steps_by_id(scenario)
    order = reachable(scenario)
    depth = {order[0]: 0}
    for sid in order:
        for made in steps[sid].get("choices", []):
            depth.setdefault(made["next"], depth[sid] + 1)
    decisions = [s for s in order if not is_ending(steps[s])]
    last = max(depth[s] for s in decisions) + 1
    rows: list[list[str]] = [[] for _ in range(last + 1)]
    for sid in order:
        rows[last if is_ending(steps[sid]) else depth[sid]].append(sid)
    position: dict[str, float] = {}
    for row in rows:
        def centre(sid: str) -> float:
            parents = [position[p] for p in position
                       if any(c["next"] == sid for c in steps[p].get("choices", []))]
            return sum(parents) / len(parents) if parents else 0.0
        row.sort(key=centre)
        for i, sid in enumerate(row):
            position[sid] = i - (len(row) - 1) / 2
    return [row for row in rows if row]


def describe(scenario: dict[str, Any]) -> str:
    """The map in words: what each choice of each decision leads to (the image's alt text)."""
    steps = steps_by_id(scenario)
    order = reachable(scenario)
    endings = [s for s in order if is_ending(steps[s])]

    def name(sid: str) -> str:
        step = steps[sid]
        if sid == END:
            return "the end"
        if is_ending(step):
            ending = step["ending"]
            return f"the {OUTCOME_WORD[ending['outcome']]} \u201c{ending['title']}\u201d"
        return f"step {sid}"

    parts = [f"Map of the scenario \u201c{scenario['title']}\u201d: "
             f"{len(order) - len(endings)} decisions, {len(endings)} endings."]
    for sid in order:
        step = steps[sid]
        if is_ending(step):
            continue
        moves = []
        for made in step["choices"]:
            target = "asked again" if made["next"] == sid else f"to {name(made['next'])}"
            records = f", records {_sets(made)}" if made.get("sets") else ""
            moves.append(f"{made['id']} ({made['verdict']}{records}) {target}")
        parts.append(f"At {name(sid)}: " + "; ".join(moves) + ".")
    changing = [f"{name(sid)} with {' and '.join(varies_with(steps[sid]))}" for sid in order
                if varies_with(steps[sid])]
    if changing:
        parts.append("What is said changes at " + "; ".join(changing) + ".")
    return " ".join(parts)


def render(scenario: dict[str, Any]) -> str:
    """The scenario's map as an SVG document (text, deterministic)."""
    steps = steps_by_id(scenario)
    rows = _rows(scenario)
    height_of = {sid: (len(_label_lines(steps[sid])) + 1) * LINE_HEIGHT for row in rows
                 for sid in row}
    widest = max(len(row) for row in rows)
    width = 2 * MARGIN + widest * NODE_WIDTH + (widest - 1) * COLUMN_GAP + 160
    box: dict[str, Box] = {}
    y = MARGIN + 20.0
    for row in rows:
        row_width = len(row) * NODE_WIDTH + (len(row) - 1) * COLUMN_GAP
        x = (width - 160 - row_width) / 2
        tallest = max(height_of[s] for s in row)
        for sid in row:
            box[sid] = (x, y, NODE_WIDTH, height_of[sid])
            x += NODE_WIDTH + COLUMN_GAP
        y += tallest + ROW_GAP
    height = int(y - ROW_GAP + MARGIN)
    title_id = f"map-{scenario['id']}-title"
    svg = ET.Element("svg", {
        "xmlns": "http://www.w3.org/2000/svg", "width": str(int(width)), "height": str(height),
        "viewBox": f"0 0 {int(width)} {height}", "role": "img",
        "aria-labelledby": f"{title_id} {title_id}-desc", "font-family": "DejaVu Sans, sans-serif",
        "font-size": "12"})
    ET.SubElement(svg, "title", {"id": title_id}).text = f"Scenario map: {scenario['title']}"
    ET.SubElement(svg, "desc", {"id": f"{title_id}-desc"}).text = describe(scenario)
    defs = ET.SubElement(svg, "defs")
    for verdict, (colour, _dash, _word) in STYLE.items():
        marker = ET.SubElement(defs, "marker", {
            "id": f"arrow-{verdict}", "viewBox": "0 0 10 10", "refX": "10", "refY": "5",
            "markerWidth": "7", "markerHeight": "7", "orient": "auto-start-reverse"})
        ET.SubElement(marker, "path", {"d": "M 0 0 L 10 5 L 0 10 z", "fill": colour})
    ET.SubElement(svg, "rect", {"width": "100%", "height": "100%", "fill": "white"})
    ET.SubElement(svg, "text", {"x": str(MARGIN), "y": str(MARGIN), "font-size": "15",
                                "font-weight": "bold"}).text = scenario["title"]
    edges = ET.SubElement(svg, "g", {"fill": "none"})
    nodes = ET.SubElement(svg, "g")
    labels = ET.SubElement(svg, "g")  # drawn last, so that no box hides a label
    for row in rows:
        for sid in row:
            step = steps[sid]
            # Leave the box in the order of where the arrows go, so that they do not cross.
            choices = sorted(step.get("choices", []), key=lambda c: box[c["next"]][0])
            for n, made in enumerate(choices):
                _edge(edges, labels, box, sid, made, n, len(choices))
    for sid, (x, y0, w, h) in box.items():
        step = steps[sid]
        fill = OUTCOME_FILL[step["ending"]["outcome"]] if is_ending(step) else "#f4f6f8"
        ET.SubElement(nodes, "rect", {"x": f"{x:.0f}", "y": f"{y0:.0f}", "width": str(w),
                                      "height": str(h), "rx": "8", "fill": fill,
                                      "stroke": "#1d2731", "stroke-width": "1.5"})
        for i, line in enumerate(_label_lines(step)):
            attrs = {"x": f"{x + 10:.0f}", "y": f"{y0 + (i + 1) * LINE_HEIGHT + 2:.0f}",
                     "fill": "#1d2731"}
            if i == 0:
                attrs["font-weight"] = "bold"
            ET.SubElement(nodes, "text", attrs).text = line
    ET.indent(svg)
    return ET.tostring(svg, encoding="unicode") + "\n"


def _edge(edges: ET.Element, labels: ET.Element, box: dict[str, Box],
          sid: str, made: dict[str, Any], n: int, count: int) -> None:
    colour, dash, word = STYLE[made["verdict"]]
    x, y, w, h = box[sid]
    start_x = x + w * (n + 1) / (count + 1)
    start_y = y + h
    attrs = {"stroke": colour, "stroke-width": "1.8",
             "marker-end": f"url(#arrow-{made['verdict']})"}
    if dash:
        attrs["stroke-dasharray"] = dash
    tx, ty, tw, _th = box[made["next"]]
    if made["next"] == sid:  # asked again: a loop out of the right side and back
        path = (f"M {x + w:.0f} {y + h * 0.7:.0f} C {x + w + 60:.0f} {y + h + 20:.0f} "
                f"{x + w + 60:.0f} {y - 20:.0f} {x + w:.0f} {y + h * 0.3:.0f}")
        label_x, label_y = x + w + 50, y + h / 2
    elif ty > y:
        end_x = tx + tw / 2 + (n - (count - 1) / 2) * 18
        mid = (start_y + ty) / 2
        path = f"M {start_x:.0f} {start_y:.0f} C {start_x:.0f} {mid:.0f} {end_x:.0f} {mid:.0f} " \
               f"{end_x:.0f} {ty:.0f}"
        share = 0.35 + 0.3 * (n / max(count - 1, 1))
        label_x = start_x + (end_x - start_x) * share
        label_y = start_y + (ty - start_y) * share
    elif ty == y:  # a step on the same row: straight across, from side to side
        from_x, to_x = (x + w, tx) if tx > x else (x, tx + tw)
        mid_y = y + h / 2 + (n - (count - 1) / 2) * 8
        path = f"M {from_x:.0f} {mid_y:.0f} L {to_x:.0f} {mid_y:.0f}"
        label_x, label_y = (from_x + to_x) / 2, y - 6
    else:  # back up to an earlier row: around the right side
        side = max(x + w, tx + tw) + 50 + 14 * n
        path = (f"M {x + w:.0f} {y + h / 2:.0f} C {side:.0f} {y + h / 2:.0f} {side:.0f} "
                f"{ty + 10:.0f} {tx + tw:.0f} {ty + 10:.0f}")
        label_x, label_y = side - 10, (y + ty) / 2 + h / 2
    ET.SubElement(edges, "path", {"d": path, **attrs})
    text = f"{word}: {made['id']}" + (f" [{_sets(made)}]" if made.get("sets") else "")
    ET.SubElement(labels, "rect", {"x": f"{label_x - 3.4 * len(text):.0f}",
                                   "y": f"{label_y - 10:.0f}", "width": f"{6.8 * len(text):.0f}",
                                   "height": "14", "fill": "white", "opacity": "0.9"})
    ET.SubElement(labels, "text", {"x": f"{label_x:.0f}", "y": f"{label_y:.0f}",
                                   "text-anchor": "middle", "fill": colour,
                                   "font-size": "11"}).text = text


def maps(root: Path, module_id: str) -> dict[str, str]:
    """{file name: SVG text} for every scenario of a module."""
    content = load_module_content(root / "modules" / module_id, module_id)
    return {f"{sid}.svg": render(s) for sid, s in content.scenarios.items()}


def write_maps(root: Path, module_id: str) -> list[Path]:
    """Write a module's maps into modules/<id>/maps/, removing maps of scenarios that are gone."""
    folder = root / "modules" / module_id / MAPS_DIR
    wanted = maps(root, module_id)
    if not wanted:
        return []
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.svg"):
        if old.name not in wanted:
            old.unlink()
    written = []
    for name, text in wanted.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_maps(root: Path, module_id: str) -> list[str]:
    """Maps that differ from a fresh drawing, are missing, or belong to no scenario."""
    folder = root / "modules" / module_id / MAPS_DIR
    wanted = maps(root, module_id)
    stale = []
    for name, text in wanted.items():
        path = folder / name
        if not path.exists():
            stale.append(f"modules/{module_id}/{MAPS_DIR}/{name} (missing: run "
                         "`privacy-course build`)")
        elif path.read_text(encoding="utf-8") != text:
            stale.append(f"modules/{module_id}/{MAPS_DIR}/{name} (differs from the YAML)")
    for path in sorted(folder.glob("*.svg")) if folder.is_dir() else []:
        if path.name not in wanted:
            stale.append(f"modules/{module_id}/{MAPS_DIR}/{path.name} (no such scenario)")
    return stale
