"""mkdocs hook: the suite-language page is generated from `rgbench.reference.reference()`.

``docs/suite-language.md`` holds the marker ``<!-- rgbench:reference -->``; `on_page_markdown`
replaces it with Markdown tables built from the same data ``rgbench list --json`` prints, so the
page cannot disagree with ``rgbench list``. Nothing here imports mkdocs: `reference_markdown` is
plain Python, and ``tests/test_docs.py`` checks that it names every key the reference lists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

MARKER = "<!-- rgbench:reference -->"
PAGE = "suite-language.md"

#: Section titles, in the order of ``rgbench list`` (`rgbench.reference.CATEGORIES`).
TITLES = {
    "suite": "Suite keys",
    "case": "Case keys",
    "train": "`train:` keys",
    "measure": "`measure:` keys",
    "masking": "`masking:` keys",
    "prediction": "Prediction keys",
    "architecture": "Architecture kinds",
    "input": "Input kinds",
    "observable": "Observable kinds",
    "test": "Test kinds",
    "theory": "Theories",
    "leaderboard": "Leaderboard rules",
}

# Characters that Markdown would read as markup outside a code span; `<`, `>` and `&` become entities.
_ESCAPE = re.compile(r"([\\`*_{}\[\]#+!|])")
_PATTERN = re.compile(r"(?<=matches )(\^\S*?\$)(?=,|$)")  # a regular expression in "allowed": shown as code
_CODE = re.compile(r"(`+)(.+?)\1")


def _text(s: str) -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _ESCAPE.sub(r"\\\1", s)


def inline(value: Any) -> str:
    """`value` as one line of Markdown that shows exactly its text: code spans (```x``` or ````x````)
    are kept as code, everything else is escaped (pipes included, so it is safe in a table cell)."""
    s = re.sub(r"\s+", " ", str(value))
    out, pos = [], 0
    for m in _CODE.finditer(s):
        out.append(_text(s[pos : m.start()]))
        code = m.group(2).strip()
        fence = "``" if "`" in code else "`"
        out.append(f"{fence}{code}{fence}")
        pos = m.end()
    out.append(_text(s[pos:]))
    return "".join(out)


def code(value: Any) -> str:
    """`value` as a code span (empty for an empty string); a pipe stays literal inside code."""
    s = " ".join(str(value).split())
    if not s:
        return ""
    fence = "``" if "`" in s else "`"
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def default(value: Any) -> str:
    """A default as ``rgbench list`` shows it: markers such as ``(required)`` as words, values as JSON."""
    if isinstance(value, str) and value.startswith("("):
        return inline(value)
    return code(json.dumps(value, default=str, ensure_ascii=False))


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def allowed(text: str) -> str:
    """The "allowed" column: words escaped, regular expressions (``matches ^…$``) as code."""
    out, pos = [], 0
    for m in _PATTERN.finditer(text):
        out += [inline(text[pos : m.start()]), code(m.group(1))]
        pos = m.end()
    return "".join([*out, inline(text[pos:])])


def _parameters(params: list[dict]) -> list[str]:
    if not params:
        return ["No parameters besides `kind`."]
    rows = [
        [code(p["name"]), code(p["type"]), default(p["default"]), allowed(p["allowed"]), inline(p["description"])] for p in params
    ]
    return _table(["key", "type", "default", "allowed", "meaning"], rows)


def _prose(text: str) -> list[str]:
    """A docstring-like text (paragraphs, ``* `` bullet lists) as Markdown blocks, each escaped."""
    blocks: list[str] = []
    for para in re.split(r"\n\s*\n", text.strip()):
        parts: list[list] = []  # [is a bullet, text]
        for line in para.splitlines():
            bullet = line.lstrip().startswith(("* ", "- "))
            if bullet or not parts:
                parts.append([bullet, line.lstrip()[2:] if bullet else line.strip()])
            else:
                parts[-1][1] += " " + line.strip()
        for bullet, body in parts:
            item = f"* {inline(body)}" if bullet else inline(body)
            if bullet and blocks and blocks[-1].startswith("* "):
                blocks[-1] += "\n" + item
            else:
                blocks.append(item)
    return [line for block in blocks for line in (block, "")][:-1]


def _sentence(text: str) -> str:
    s = inline(text)
    return s[:1].upper() + s[1:]


def reference_markdown(ref: dict[str, Any] | None = None, *, xi_note: str | None = None) -> str:
    """The whole reference as Markdown: one section per category of `rgbench.reference.CATEGORIES`."""
    from rgbench.reference import KIND_CATEGORIES, XI_NOTE, reference

    ref = reference() if ref is None else ref
    xi_note = XI_NOTE if xi_note is None else xi_note
    lines: list[str] = []
    for cat, section in ref.items():
        lines += [f"## {TITLES.get(cat, cat)}", ""]
        if cat == "leaderboard":
            lines += [_sentence(section["description"]) + ":", ""]
            lines += _table(
                ["rule", "what it says"], [[f"**{inline(name)}**", inline(text)] for name, text in section["rules"].items()]
            )
        elif cat == "theory":
            lines += ["A test names a theory as its value: `value: {theory: NAME}` (`close_to`, `scaling`).", ""]
            for name, t in section.items():
                lines += [f"### `{name}`", ""]
                lines += _prose(t["description"])
                lines += [
                    "",
                    f"Predicts: {', '.join(code(o) for o in t['observables'])} "
                    f"(stage {', '.join(code(s) for s in t['stages'])}). Source: {inline(t['source'])}.",
                    "",
                ]
        elif cat in KIND_CATEGORIES:
            lines += [f"A case or prediction names one as `{cat}: {{kind: NAME, …}}`.", ""]
            if cat == "input":
                lines += [inline(xi_note), ""]
            for kind, info in section.items():
                lines += [f"### `{kind}`", "", f"{inline(info['description'])} *(from {inline(info['source'])})*", ""]
                lines += _parameters(info["parameters"])
                lines.append("")
        else:
            lines += [_sentence(section["description"]) + ".", ""]
            lines += _parameters(section["parameters"])
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


REPORTS_MARKER = "<!-- rgbench:reports -->"
REPORTS_PAGE = "reports.md"
#: The order of the shipped reports on the reports page; any other ``results/*.score.md`` follows, by name.
REPORTS_FIRST = (
    "rg-paper-v3",
    "architectures-v3",
    "controls-v2",
    "rg-paper-v2",
    "architectures-full",
    "architectures-v2",
    "noise",
)


def reports_markdown(results: Path) -> str:
    """Every shipped score report ``results/*.score.md`` — the exact output of ``rgbench score STORE
    --format markdown`` that scripts/rescore-results.sh commits — one after another, each heading
    moved one level down so that each report is a section of the page."""
    reports = {p.name.removesuffix(".score.md"): p for p in results.glob("*.score.md")}
    if not reports:
        raise ValueError(f"no score report (*.score.md) in {results}")
    order = [n for n in REPORTS_FIRST if n in reports] + sorted(set(reports) - set(REPORTS_FIRST))
    parts = []
    for name in order:
        text = reports[name].read_text()
        parts.append(re.sub(r"^(#{1,5}) ", r"#\1 ", text, flags=re.M).rstrip() + "\n")
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any, **kwargs: Any) -> str:
    """mkdocs event: fill the marker of the suite-language page and of the reports page (every other
    page is left as it is)."""
    if page.file.src_uri == PAGE:
        if MARKER not in markdown:
            raise ValueError(f"docs/{PAGE} lost its marker {MARKER}: the generated reference has nowhere to go")
        return markdown.replace(MARKER, reference_markdown())
    if page.file.src_uri == REPORTS_PAGE:
        if REPORTS_MARKER not in markdown:
            raise ValueError(f"docs/{REPORTS_PAGE} lost its marker {REPORTS_MARKER}: the reports have nowhere to go")
        root = Path(config["config_file_path"]).resolve().parent
        return markdown.replace(REPORTS_MARKER, reports_markdown(root / "results"))
    return markdown


#: The shipped overview figures and claims-along-training figures, served at ``figures/<suite>/overview.png``
#: and ``figures/<suite>/claims.png`` (results.md links them there).
FIGURES = "results/figures"


def on_files(files: Any, config: Any, **kwargs: Any) -> Any:
    """mkdocs event: add each shipped ``results/figures/<suite>/overview.png`` (and ``claims.png``) to the site, so the
    results page shows the committed figures themselves rather than copies kept under ``docs/``."""
    from mkdocs.structure.files import File

    root = Path(config["config_file_path"]).resolve().parent
    for png in sorted([*(root / FIGURES).glob("*/overview.png"), *(root / FIGURES).glob("*/claims.png")]):
        files.append(File.generated(config, f"figures/{png.parent.name}/{png.name}", abs_src_path=str(png)))
    return files
