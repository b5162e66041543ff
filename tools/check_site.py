"""Open every page of the HTML site in headless Chromium: no console error, no failed request, maths rendered.

  python tools/check_site.py _site [--screenshot figures/docs/site.png --page 07_pooling]

Uses Playwright from pip with Debian's Chromium (tools/ensure_chromium.sh), never `playwright install`.
A page with maths passes when MathJax has typeset it: no `$...$` or `\\(...\\)` source is left in the text and
MathJax output elements exist. Exit 1 listing the problems.
"""
import argparse, re, subprocess, sys, threading
from contextlib import contextmanager
from functools import partial
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run']

def chromium() -> str:
    return subprocess.run(['bash', str(ROOT/'tools'/'ensure_chromium.sh')], capture_output=True, text=True,
                          check=True).stdout.strip().splitlines()[-1]

@contextmanager
def serve(folder:Path):
    "Serve `folder` on a free port of 127.0.0.1 (as a static host would; file:// blocks web fonts); yields the base URL."
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    h = partial(Quiet, directory=str(folder))
    srv = ThreadingHTTPServer(('127.0.0.1', 0), h)
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    try: yield f'http://127.0.0.1:{srv.server_address[1]}'
    finally: srv.shutdown(); srv.server_close()

def check_pages(pages, screenshot:dict|None=None) -> dict:
    "{page name: [problems]} for each HTML file in `pages` (one folder); `screenshot` maps a page stem to a PNG path."
    from playwright.sync_api import sync_playwright
    out = {}
    pages = [Path(q).resolve() for q in pages]
    if not pages: return out
    with serve(pages[0].parent) as base, sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=ARGS, headless=True)
        for page_path in pages:
            page_path = Path(page_path).resolve(); errs = []
            pg = b.new_page(viewport={'width': 1200, 'height': 900})
            pg.on('console', lambda m, errs=errs: m.type == 'error' and errs.append(f'console: {m.text}'))
            pg.on('pageerror', lambda e, errs=errs: errs.append(f'page error: {e}'))
            pg.on('requestfailed', lambda r, errs=errs: errs.append(f'request failed: {r.url}'))
            pg.goto(f'{base}/{page_path.name}', wait_until='load')
            pg.wait_for_function('() => !window.MathJax || (MathJax.Hub && MathJax.Hub.queue.pending === 0 && MathJax.Hub.queue.running === 0)',
                                 timeout=60000)
            pg.wait_for_timeout(300)
            n_math = pg.evaluate("() => document.querySelectorAll('.MathJax_CHTML, .MathJax, mjx-container').length")
            text = pg.evaluate("() => Array.from(document.querySelectorAll('.jp-RenderedMarkdown')).map(e => e.innerText).join('\\n')")
            raw = re.findall(r'\$[^$\n]{1,80}\$', text) + re.findall(r'\\\([^\n]{1,80}?\\\)', text)
            if raw: errs.append(f'{len(raw)} maths left as source, e.g. {raw[0]!r}')
            has_math = pg.evaluate("() => !!document.querySelector('script[type^=\"math/tex\"]')") or n_math
            out[page_path.stem] = errs + ([] if not has_math or n_math else ['maths not typeset'])
            if screenshot and page_path.stem in screenshot:
                pg.screenshot(path=str(screenshot[page_path.stem]), full_page=False)
            pg.close()
        b.close()
    return out

def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument('site', type=Path)
    ap.add_argument('--screenshot', type=Path); ap.add_argument('--page', default='index')
    a = ap.parse_args(argv)
    pages = sorted(a.site.glob('*.html'))
    res = check_pages(pages, {a.page: a.screenshot} if a.screenshot else None)
    bad = {k: v for k, v in res.items() if v}
    for k, v in res.items(): print(f"{k}: {'ok' if not v else '; '.join(v)}")
    return 1 if bad or not pages else 0

if __name__ == '__main__': sys.exit(main())
