"""Screenshot of the search page for the README (a developer tool, not part of soi).

    python tools/app_screenshot.py --index IDX --query Q.jpg [--box 0.2 0.1 0.8 0.7] [--rerank sv-sift] [--out figures/app/search.png]

Starts `soi serve` on a free loopback port and drives Debian's Chromium with the same steps as
tests/test_app_browser.py (upload, draw a box, pick a re-ranking), then saves the page.
"""
import argparse, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tests')); sys.path.insert(0, str(ROOT))
from test_app_browser import drive, free_port, start_server

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--index', required=True); ap.add_argument('--query', required=True)
    ap.add_argument('--box', type=float, nargs=4, default=[0.2, 0.1, 0.8, 0.7], help='fractions of the shown query')
    ap.add_argument('--rerank', default='sv-sift'); ap.add_argument('--out', default=str(ROOT/'figures/app/search.png'))
    a = ap.parse_args(); port = free_port(); server = start_server(Path(a.index), port)
    try: seen = drive(f'http://127.0.0.1:{port}/', Path(a.query), Path(a.out), tuple(a.box), a.rerank, click=False, viewport=(1280, 720))
    finally: server.terminate(); server.wait(10)
    print(seen['timings']); print(seen['rerank'][:400]); print('->', a.out)
