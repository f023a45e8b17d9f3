"""Look at rgbench's HTML pages in headless Chromium, as a reader's browser shows them.

    python scripts/check_pages.py [PAGE.html ...] [--width 1400] [--strict] [--json] [--screenshot DIR]

With no PAGE, the shipped pages: ``results/LEADERBOARD.html`` (``rgbench leaderboard ... --html``)
and every ``results/figures/*/report.html`` (``rgbench plot``).

Why: these pages are what a reader opens, and nothing else renders them. A test of the HTML text
cannot tell that a table pushes the page sideways, that an ``<img>`` points at a file that is not
there, or that the sort script throws. The issue asks for exactly those: each page renders without
JavaScript errors, and at the shipped size (a 1400 px window; 1280 px for a one-store leaderboard)
needs no horizontal scroll.

What, per page, with Chromium run as ``--headless --no-sandbox --disable-gpu --window-size=W,900``
on a fresh temporary profile and ``--virtual-time-budget=5000`` (so the load event and the page's
scripts run), on a temporary copy of the page that has

* at the very start of ``<head>``: ``window.onerror``, a capturing ``error`` listener and an
  ``unhandledrejection`` listener, and a wrapped ``console.error``, so errors in the page's own
  scripts are recorded however early they happen;
* a ``<base href>`` to the page's own folder, so its relative ``<img src>`` resolve as they do for
  the original (nothing is written next to the original);
* before ``</body>``: a script that, after the load event, writes a JSON record into the DOM
  (a hidden ``<pre id="__rgbench_page_check">``), which ``--dump-dom`` returns.

The injected scripts hold no line break, so line numbers in error messages are the page's own
(columns on the line of ``<head>`` and ``</body>`` are shifted).

Reported, and each a failure:

* horizontal overflow: ``document.documentElement.scrollWidth`` greater than the width the page
  is laid out in, ``document.documentElement.clientWidth``. That is ``window.innerWidth`` less a
  vertical scroll bar (headless Chromium draws a 15 px one when the page is taller than the
  window), so a page between the two widths does scroll sideways; all three numbers are reported;
* with ``--strict``, also a box inside the page that scrolls sideways (``overflow-x: auto`` or
  ``scroll`` with more content than width, e.g. a wide table in its scroll box). Such boxes are
  always listed; without ``--strict`` they do not fail the page, since a page whose wide table
  scrolls in its own box still fits the window (the multi-store leaderboard at 1400 px). A
  one-store leaderboard should need no sideways scroll at all: check it with ``--width 1280 --strict``;
* broken images: every ``<img>`` with ``!img.complete || img.naturalWidth === 0`` after load;
* JavaScript errors: uncaught exceptions and rejections, ``console.error`` calls, and resources
  (scripts, stylesheets) that failed to load; as a second source, Chromium's own log
  (``--enable-logging=stderr --v=0``) lines with "Uncaught" in them. Every ``CONSOLE`` line of
  that log is reported as well, without failing the page (the log does not say which were errors).

Exit status: 0 when every page passes, 1 when one fails (or Chromium could not render it), 2 when
there is nothing to check or no Chromium: it is looked for as ``$RGBENCH_CHROMIUM``, else
``chromium``, ``chromium-browser``, ``google-chrome``, ``google-chrome-stable`` on ``PATH``.
``--json`` prints the per-page records as a JSON list; ``--screenshot DIR`` also saves a PNG of
each page's first screen (the window, W × 900) there.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WIDTH = 1400
WINDOW_HEIGHT = 900
TIMEOUT_S = 60.0
VIRTUAL_TIME_BUDGET_MS = 5000
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHECK_ID = "__rgbench_page_check"

# At the very start of <head>: collect errors from here on. One line, so the page keeps its line numbers.
_EARLY = (
    "<script>(function(){"
    "var errs=window.__rgbenchErrors=[],res=window.__rgbenchFailedResources=[],seen={};"
    "function add(m){m=String(m);if(!seen[m]){seen[m]=1;errs.push(m);}}"
    "function where(f,l,c){return f?' ('+f+':'+l+':'+c+')':'';}"
    "window.onerror=function(m,f,l,c){add(m+where(f,l,c));};"
    "window.addEventListener('error',function(e){var t=e.target;"
    "if(t&&t!==window&&t.tagName){if(t.tagName!=='IMG')res.push(t.tagName.toLowerCase()+' '+(t.src||t.href||''));return;}"
    "add((e.message||'error')+where(e.filename,e.lineno,e.colno));},true);"
    "window.addEventListener('unhandledrejection',function(e){var r=e.reason;"
    "add('Unhandled rejection: '+(r&&r.message?r.message:String(r)));});"
    "var ce=console.error;console.error=function(){"
    "add('console.error: '+Array.prototype.map.call(arguments,String).join(' '));"
    "return ce.apply(console,arguments);};"
    "})();</script>"
)

# Before </body>: after the load event (and the page's own load handlers), write the record into the DOM.
_LATE = (
    "<script>window.addEventListener('load',function(){setTimeout(function(){"
    "var d=document.documentElement,broken=[];"
    "Array.prototype.forEach.call(document.images,function(i){"
    "if(!i.complete||i.naturalWidth===0){var s=i.getAttribute('src')||i.currentSrc||'';"
    "if(s.length>80)s=s.slice(0,77)+'...';broken.push(s+(i.alt?' (alt \"'+i.alt+'\")':''));}});"
    "var boxes=[];Array.prototype.forEach.call(document.body?document.body.querySelectorAll('*'):[],function(e){"
    "var o=getComputedStyle(e).overflowX;if((o==='auto'||o==='scroll')&&e.scrollWidth>e.clientWidth)"
    "boxes.push({element:e.tagName.toLowerCase()+(e.id?'#'+e.id:'')+(typeof e.className==='string'&&e.className?'.'+e.className.trim().split(/\\s+/).join('.'):''),"
    "scroll_width:e.scrollWidth,client_width:e.clientWidth});});"
    "var r={scroll_width:d.scrollWidth,client_width:d.clientWidth,inner_width:window.innerWidth,"
    "scrolling_boxes:boxes,images:document.images.length,broken_images:broken,js_errors:window.__rgbenchErrors||['the error-recording script did not run'],"
    "failed_resources:window.__rgbenchFailedResources||[]};"
    f"var p=document.createElement('pre');p.id='{CHECK_ID}';p.style.display='none';"
    "p.textContent=JSON.stringify(r);document.body.appendChild(p);},100);});</script>"
)

_RECORD = re.compile(rf'<pre id="{CHECK_ID}"[^>]*>(.*?)</pre>', re.DOTALL)


class ChromiumNotFound(RuntimeError):
    pass


def find_chromium() -> str | None:
    """The Chromium to run: ``$RGBENCH_CHROMIUM`` (a path or a name on PATH), else the first of
    CHROMIUM_NAMES on PATH; None when there is none."""
    named = os.environ.get("RGBENCH_CHROMIUM")
    if named:
        return shutil.which(named)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium(chromium: str | None) -> str:
    found = chromium or find_chromium()
    if found:
        return found
    if os.environ.get("RGBENCH_CHROMIUM"):
        raise ChromiumNotFound(f"RGBENCH_CHROMIUM={os.environ['RGBENCH_CHROMIUM']!r} is not an executable file or a name on PATH")
    raise ChromiumNotFound(f"no Chromium found: set RGBENCH_CHROMIUM, or put one of {', '.join(CHROMIUM_NAMES)} on PATH")


def instrument(page_html: str, base_href: str) -> str:
    """`page_html` with the recording scripts and a <base> put in; see the module docstring."""
    early = f'<base href="{html.escape(base_href, quote=True)}">{_EARLY}'
    head = re.search(r"<head(\s[^>]*)?>", page_html, re.IGNORECASE)
    if head is None:  # no <head> tag: right after <html ...> or the doctype, else first
        head = re.search(r"<html(\s[^>]*)?>", page_html, re.IGNORECASE) or re.search(r"<!doctype[^>]*>", page_html, re.IGNORECASE)
    at = head.end() if head else 0
    out = page_html[:at] + early + page_html[at:]
    body_end = out.lower().rfind("</body>")
    return out + _LATE if body_end < 0 else out[:body_end] + _LATE + out[body_end:]


def _run_chromium(argv: list[str], timeout: float) -> tuple[int | None, str, str]:
    """Run `argv` in its own process group; on timeout kill that group. (returncode or None, stdout, stderr)."""
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        return None, out, err
    return proc.returncode, out, err


def _console_lines(stderr: str, temp_url: str, page_url: str) -> tuple[list[str], list[str]]:
    """Chromium's log: (the CONSOLE lines, the lines with "Uncaught"), each without its log prefix."""
    console, uncaught = [], []
    for line in stderr.splitlines():
        if "CONSOLE" not in line and "Uncaught" not in line:
            continue
        text = re.sub(r"^\[[^\]]*\]\s*", "", line).replace(temp_url, page_url)
        if "CONSOLE" in line:
            console.append(text)
        if "Uncaught" in line:
            uncaught.append(text)
    return console, uncaught


def _base_argv(chromium: str, width: int, profile: str) -> list[str]:
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--window-size={width},{WINDOW_HEIGHT}",
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
    ]


def check_page(
    page: str | os.PathLike,
    width: int = DEFAULT_WIDTH,
    *,
    chromium: str | None = None,
    timeout: float = TIMEOUT_S,
    screenshot_dir: str | os.PathLike | None = None,
    strict: bool = False,
) -> dict:
    """Render `page` in headless Chromium in a `width`-px window and return its record: page, width,
    scroll_width, client_width, inner_width, overflow, scrolling_boxes, images (how many <img>), broken_images, js_errors, failed_resources,
    uncaught (from Chromium's log), console (Chromium's CONSOLE log lines), screenshot, error (why
    the page could not be checked, else None) and ok. With `strict`, a box that scrolls sideways
    inside the page (scrolling_boxes) fails the page too. Raises ChromiumNotFound when there is no Chromium."""
    chromium = require_chromium(chromium)
    path = Path(page).resolve()
    record: dict = {
        "page": str(page),
        "width": width,
        "scroll_width": None,
        "client_width": None,
        "inner_width": None,
        "overflow": None,
        "scrolling_boxes": [],
        "images": None,
        "broken_images": [],
        "js_errors": [],
        "failed_resources": [],
        "uncaught": [],
        "console": [],
        "screenshot": None,
        "error": None,
        "strict": strict,
        "ok": False,
    }
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        record["error"] = f"cannot read the page: {e}"
        return record

    with tempfile.TemporaryDirectory(prefix="rgbench-page-check-", ignore_cleanup_errors=True) as tmp:
        copy = Path(tmp) / "page.html"
        copy.write_text(instrument(source, path.parent.as_uri() + "/"), encoding="utf-8")
        temp_url, page_url = copy.as_uri(), path.as_uri()
        argv = _base_argv(chromium, width, str(Path(tmp) / "profile"))
        rc, out, err = _run_chromium([*argv, "--enable-logging=stderr", "--v=0", "--dump-dom", temp_url], timeout)
        record["console"], record["uncaught"] = _console_lines(err, temp_url, page_url)
        match = _RECORD.search(out)
        if rc is None:
            record["error"] = f"Chromium did not finish within {timeout:g} s"
        elif match is None:
            tail = "\n".join(err.strip().splitlines()[-5:])
            record["error"] = (
                f"no check record in Chromium's --dump-dom output (exit status {rc}); "
                f"the page may not have reached its load event within {VIRTUAL_TIME_BUDGET_MS} ms of virtual time"
                + (f"; Chromium's last log lines:\n{tail}" if tail else "")
            )
        else:
            try:
                measured = json.loads(html.unescape(match.group(1)))
            except json.JSONDecodeError as e:
                record["error"] = f"the check record is not JSON: {e}"
            else:
                for key in (
                    "scroll_width",
                    "client_width",
                    "inner_width",
                    "scrolling_boxes",
                    "images",
                    "broken_images",
                    "js_errors",
                    "failed_resources",
                ):
                    record[key] = measured[key]
                record["js_errors"] = [m.replace(temp_url, page_url) for m in record["js_errors"]]
                record["overflow"] = record["scroll_width"] > record["client_width"]

        if screenshot_dir is not None:
            shots = Path(screenshot_dir)
            shots.mkdir(parents=True, exist_ok=True)
            png = (shots / f"{path.parent.name}-{path.stem}.png").resolve()
            src, _, _ = _run_chromium(
                [*argv, "--run-all-compositor-stages-before-draw", f"--screenshot={png}", temp_url], timeout
            )
            if src is None or not png.is_file():
                note = f"no screenshot ({'timed out' if src is None else f'exit status {src}'})"
                record["error"] = f"{record['error']}; {note}" if record["error"] else note
            else:
                record["screenshot"] = str(png)

    record["ok"] = (
        record["error"] is None
        and not record["overflow"]
        and not (strict and record["scrolling_boxes"])
        and not record["broken_images"]
        and not record["js_errors"]
        and not record["failed_resources"]
        and not record["uncaught"]
    )
    return record


def default_pages(root: Path = ROOT) -> list[Path]:
    """results/LEADERBOARD.html and results/figures/*/report.html, those that exist."""
    pages = [root / "results" / "LEADERBOARD.html", *sorted((root / "results" / "figures").glob("*/report.html"))]
    return [p for p in pages if p.is_file()]


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def format_record(r: dict) -> str:
    head = "PASS" if r["ok"] else "FAIL"
    lines = [f"{head} {r['page']} (window {r['width']} px{', strict' if r.get('strict') else ''})"]
    if r["scroll_width"] is not None:
        verdict = "horizontal overflow" if r["overflow"] else "no horizontal scroll"
        lines.append(
            f"  {verdict}: scrollWidth {r['scroll_width']} px, laid out in {r['client_width']} px "
            f"(innerWidth {r['inner_width']} px{', less a vertical scroll bar' if r['client_width'] < r['inner_width'] else ''})"
        )
    lines += [
        f"  {'box scrolls sideways' if r.get('strict') else 'box scrolls sideways (not counted without --strict)'}: "
        f"{b['element']}, {b['scroll_width']} px of content in {b['client_width']} px"
        for b in r["scrolling_boxes"]
    ]
    if r["images"] is not None:
        lines.append(f"  images: {r['images']}, {len(r['broken_images'])} broken")
    for label, key in (
        ("broken image", "broken_images"),
        ("JS error", "js_errors"),
        ("failed resource", "failed_resources"),
        ("Chromium log, uncaught", "uncaught"),
    ):
        lines += [f"  {label}: {item}" for item in r[key]]
    lines += [f"  Chromium log (not counted): {c}" for c in r["console"] if c not in r["uncaught"]]
    if r["screenshot"]:
        lines.append(f"  screenshot: {r['screenshot']}")
    if r["error"]:
        lines.append("  could not check: " + r["error"].replace("\n", "\n    "))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", metavar="PAGE.html", help="pages to check (default: the shipped ones)")
    parser.add_argument("--width", type=int, default=DEFAULT_WIDTH, help=f"window width in px (default {DEFAULT_WIDTH})")
    parser.add_argument("--json", action="store_true", help="print the per-page records as a JSON list")
    parser.add_argument("--screenshot", metavar="DIR", help="also save a PNG of each page's first screen in DIR")
    parser.add_argument("--strict", action="store_true", help="a box that scrolls sideways inside the page fails it too")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help=f"seconds per Chromium run (default {TIMEOUT_S:g})")
    args = parser.parse_args(argv)

    try:
        chromium = require_chromium(None)
    except ChromiumNotFound as e:
        print(f"check_pages: {e}", file=sys.stderr)
        return 2
    if args.pages:
        pages = [Path(p) for p in args.pages]
        missing = [p for p in pages if not p.is_file()]
        if missing:
            print(f"check_pages: no such page: {', '.join(map(str, missing))}", file=sys.stderr)
            return 2
    else:
        pages = default_pages()
        if not pages:
            print("check_pages: no pages to check (results/LEADERBOARD.html, results/figures/*/report.html)", file=sys.stderr)
            return 2

    records = []
    for page in pages:
        record = check_page(
            page, args.width, chromium=chromium, timeout=args.timeout, screenshot_dir=args.screenshot, strict=args.strict
        )
        record["page"] = _display(page)
        records.append(record)
        if not args.json:
            print(format_record(record), flush=True)
    if args.json:
        print(json.dumps(records, indent=2))
    else:
        failed = sum(not r["ok"] for r in records)
        print(f"{len(records) - failed} of {len(records)} pages pass at {args.width} px")
    return 0 if all(r["ok"] for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
