"""The docs site's tables that scroll sideways at a window width, as headless Chromium lays them out.

    mkdocs build --strict --site-dir SITE && python scripts/docs_table_widths.py SITE [--width 1280]

Prints, per built page (``SITE/*/index.html``), each table whose scroll box is wider than the page
gives it: ``INDEX:CONTENT/BOX`` in CSS pixels (the table's content width over the box's width). A
page with none prints its name alone. The figures of the site's layout choices (mkdocs.yml's
``toc.integrate``, docs/stylesheets/extra.css) come from this script. Needs ``chromium`` on PATH.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import subprocess

PROBE = (
    "<script>window.addEventListener('load',()=>{const out=[];"
    "document.querySelectorAll('.md-typeset table').forEach((t,i)=>{"
    "const w=t.closest('.md-typeset__scrollwrap')||t;"
    "if(w.scrollWidth>w.clientWidth+2)out.push(i+':'+w.scrollWidth+'/'+w.clientWidth)});"
    "const p=document.createElement('pre');p.id='__widths';p.textContent=out.join(' ');"
    "document.body.appendChild(p);});</script>"
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("site", type=pathlib.Path, help="a built site (mkdocs build --site-dir SITE)")
    p.add_argument("--width", type=int, default=1280, help="window width in pixels (default 1280)")
    args = p.parse_args()
    for page in sorted(args.site.glob("*/index.html")):
        html = page.read_text().replace("</body>", PROBE + "</body>")
        probe = page.parent / "__widths.html"
        probe.write_text(html.replace("<head>", f'<head><base href="{page.parent.resolve().as_uri()}/">', 1))
        try:
            dom = subprocess.run(
                ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={args.width},900"]
                + ["--virtual-time-budget=5000", "--dump-dom", probe.resolve().as_uri()],
                capture_output=True,
                text=True,
                timeout=90,
            ).stdout
        finally:
            probe.unlink()
        m = re.search(r'<pre id="__widths">(.*?)</pre>', dom, re.S)
        print(page.parent.name, m.group(1) if m else "(no result: the page did not load)")


if __name__ == "__main__":
    main()
