"""A real browser against `soi serve`: Playwright drives Debian's Chromium (tools/ensure_chromium.sh; no browser download).

Starts `soi serve` on 127.0.0.1 on a free port over a tiny index, uploads a photo, draws a box with the mouse,
switches the re-ranking, checks that the results change each time, clicks a result to search with it, and
saves a screenshot into figures/app/. `drive` is reused by tools/app_screenshot.py for the README screenshot.
"""
import os, shutil, subprocess, sys
from pathlib import Path
import pytest
from soi import testing
from soi.testing import free_port

ROOT = Path(__file__).resolve().parents[1]
ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run']

def chromium() -> str | None:
    "Path of Debian's Chromium (installed by tools/ensure_chromium.sh when missing and possible)."
    for c in ('chromium', 'chromium-browser'):
        if p := shutil.which(c): return p
    r = subprocess.run([str(ROOT/'tools/ensure_chromium.sh')], capture_output=True, text=True)
    return r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else None

def start_server(index: Path, port: int, *extra) -> subprocess.Popen:
    "Run `soi serve --index INDEX --port PORT` (127.0.0.1 by default) and wait for /healthz."
    cmd = [sys.executable, '-c', 'import sys; from soi.cli import main; sys.exit(main(sys.argv[1:]))',
           'serve', '--index', str(index), '--port', str(port), *extra]
    return testing.start_server(cmd, f'http://127.0.0.1:{port}/healthz', 120, env={**os.environ, 'PYTHONPATH': str(ROOT)})

def drive(url: str, query: Path, shot: Path, box=(0.15, 0.1, 0.7, 0.65), rerank='aqe', click=True,
          viewport=(1280, 860)) -> dict:
    "Upload `query`, draw `box` (fractions of the shown image), pick `rerank`, screenshot, click a result."
    from playwright.sync_api import sync_playwright
    seen = {}
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium(), args=ARGS, headless=True)
        page = b.new_page(viewport={'width': viewport[0], 'height': viewport[1]})
        page.goto(url)
        n = lambda: page.evaluate('Number(document.body.dataset.searches || 0)')
        def wait(k): page.wait_for_function(f'Number(document.body.dataset.searches || 0) >= {k}', timeout=60_000)
        page.set_input_files('#file', str(query)); wait(1)
        seen['upload'] = page.inner_text('#results')
        page.wait_for_function("document.getElementById('qimg').naturalWidth > 0")
        bb = page.locator('#qimg').bounding_box()
        x0, y0 = bb['x'] + box[0] * bb['width'], bb['y'] + box[1] * bb['height']
        x1, y1 = bb['x'] + box[2] * bb['width'], bb['y'] + box[3] * bb['height']
        page.mouse.move(x0, y0); page.mouse.down(); page.mouse.move(x1, y1, steps=8); page.mouse.up(); wait(2)
        seen['box'] = page.inner_text('#results'); seen['box_shown'] = page.locator('#box').is_visible()
        page.select_option('#rerank', rerank); wait(3)
        seen['rerank'] = page.inner_text('#results'); seen['timings'] = page.inner_text('#timings')
        seen['cards'] = page.locator('.card').count()
        shot.parent.mkdir(parents=True, exist_ok=True); page.screenshot(path=str(shot), full_page=True)
        if click:
            page.locator('.card').nth(1).click(); wait(4)
            seen['clicked_src'] = page.get_attribute('#qimg', 'src'); seen['click'] = page.inner_text('#results')
        seen['status'] = page.inner_text('#status'); seen['searches'] = n()
        b.close()
    return seen

@pytest.fixture(scope='module')
def tiny_index(tmp_path_factory):
    from soi.engine import build_collection, sample_photos, sample_queries, SAMPLES
    d = tmp_path_factory.mktemp('app'); sample_photos(d/'photos', SAMPLES[:8], size=160)
    build_collection(d/'photos', d/'index', model='resnet18-gem', image_size=96, progress=False)
    return d/'index', next(iter(sample_queries(d/'photos', d/'queries')))

def test_browser(tiny_index):
    pytest.importorskip('playwright'); pytest.importorskip('uvicorn')
    if chromium() is None: pytest.skip('no chromium (tools/ensure_chromium.sh could not install it)')
    index, query = tiny_index; port = free_port()
    server = start_server(index, port)
    try:
        seen = drive(f'http://127.0.0.1:{port}/', Path(query), ROOT/'figures/app/browser-test.png')
    finally:
        server.terminate(); server.wait(10)
    assert seen['status'] == '' and seen['searches'] == 4
    assert seen['cards'] == 8 and 'astronaut.jpg' in seen['upload']           # 8 images, k=12: all of them
    assert seen['box_shown'] and seen['box'] != seen['upload']                  # the box changed the scores
    assert seen['rerank'] != seen['box']                                        # so did alpha-QE
    assert 'extract' in seen['timings'] and 'rerank' in seen['timings']
    assert seen['clicked_src'].startswith('/api/images/') and seen['click'] != seen['rerank']
    assert (ROOT/'figures/app/browser-test.png').stat().st_size > 10_000
