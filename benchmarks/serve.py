"""Load and latency benchmark of `soi serve` (soi.app) on loopback.

    python benchmarks/serve.py                      # load runs (small index, then + 100k distractor vectors) and latency
    python benchmarks/serve.py --only latency       # one 1024-px photo: decode / extract / search / re-rank ms

Load: `soi serve` runs in its own process on 127.0.0.1; N requests (default 500) come from C concurrent
clients (default 20). About 10% are deliberate bad uploads (text, a decompression-bomb PNG, a truncated
JPEG, an oversized body), which must all get a 4xx; every other request must get 200 (errors = anything
else). Prints p50/p95 latency of the good requests, throughput, and the server's peak RSS (VmHWM) after
start-up and after the load. The same runs against the index plus 100,000 random unit vectors (distractors
with no file behind them). Every run is bounded (--max-seconds) and the server is stopped at the end.

Results are written to results/bench/serve.json (the README and the closing note quote that file).
"""
import argparse, asyncio, json, os, platform, random, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from soi.testing import free_port

def rss_peak_mb(pid: int) -> tuple[float, float]:
    "(current RSS, peak RSS) of a process in MiB, from /proc (Linux)."
    st = dict(l.split(':', 1) for l in Path(f'/proc/{pid}/status').read_text().splitlines() if ':' in l)
    kb = lambda k: float(st[k].split()[0]) / 1024
    return kb('VmRSS'), kb('VmHWM')

def start(index: Path, port: int, extra=()) -> subprocess.Popen:
    "Run `soi serve` on 127.0.0.1:`port` over `index` and wait for /healthz (soi.testing.start_server)."
    from soi.testing import start_server
    cmd = [sys.executable, '-c', 'import sys; from soi.cli import main; sys.exit(main(sys.argv[1:]))',
           'serve', '--index', str(index), '--port', str(port), *extra]
    return start_server(cmd, f'http://127.0.0.1:{port}/healthz', 300, env={**os.environ, 'PYTHONPATH': str(ROOT)},
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

def bad_uploads(max_upload: int) -> list:
    "(name, bytes, expected status) of deliberate bad uploads."
    from soi.app import png_with_size
    from soi.engine import sample_photos
    d = Path(tempfile.mkdtemp()); p = sample_photos(d, ['astronaut'])[0]; jpg = p.read_bytes(); shutil.rmtree(d)
    return [('text.jpg', b'this is not an image\n' * 20, 415), ('bomb.png', png_with_size(60_000, 60_000), 413),
            ('truncated.jpg', jpg[:3000], 422), ('huge.jpg', b'\xff\xd8\xff' + os.urandom(max_upload + 1000), 413)]

async def load(url: str, queries: list, bad: list, n: int, conc: int, bad_every: int, k: int, max_s: float) -> dict:
    "Send n requests from conc clients; returns statuses, latencies of good requests, wall time."
    import httpx
    plan = [('bad', bad[i // bad_every % len(bad)]) if i % bad_every == bad_every - 1 else ('good', queries[i % len(queries)])
            for i in range(n)]
    random.Random(0).shuffle(plan)
    it, lat, out, batches = iter(enumerate(plan)), [], [], []
    async def client(c):
        for i, (kind, item) in it:
            name, data, want = item if kind == 'bad' else (Path(item).name, Path(item).read_bytes(), 200)
            t0 = time.perf_counter()
            try:
                r = await c.post(url + 'api/search', files={'image': (name, data, 'application/octet-stream')},
                                 data={'k': str(k)}); st = r.status_code
            except httpx.HTTPError as e: st = f'{type(e).__name__}'
            dt = time.perf_counter() - t0
            out.append((kind, want, st))
            if kind == 'good' and st == 200: lat.append(dt); batches.append(r.json()['batch_size'])
    t0 = time.perf_counter()
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=conc)) as c:
        await asyncio.wait_for(asyncio.gather(*[client(c) for _ in range(conc)]), max_s)
    wall = time.perf_counter() - t0
    good = [o for o in out if o[0] == 'good']; badr = [o for o in out if o[0] == 'bad']
    errors = sum(st != 200 for _, _, st in good) + sum(not (isinstance(st, int) and 400 <= st < 500) for _, _, st in badr)
    lat = np.array(lat) * 1000
    return dict(requests=len(out), good=len(good), bad=len(badr), errors=int(errors),
                bad_4xx=int(sum(isinstance(st, int) and 400 <= st < 500 for _, _, st in badr)),
                bad_expected_status=int(sum(st == want for _, want, st in badr)),
                statuses={str(s): sum(1 for o in out if o[2] == s) for s in sorted({o[2] for o in out}, key=str)},
                p50_ms=round(float(np.percentile(lat, 50)), 1), p95_ms=round(float(np.percentile(lat, 95)), 1),
                throughput_rps=round(len(out) / wall, 2), wall_s=round(wall, 1),
                mean_batch=round(float(np.mean(batches)), 2) if batches else None, max_batch=max(batches, default=None))

def run_load(index: Path, queries: list, args) -> dict:
    port = free_port(); p = start(index, port, ['--max-upload-mb', str(args.max_upload_mb)])
    try:
        before = rss_peak_mb(p.pid)
        bad = bad_uploads(int(args.max_upload_mb * 2**20))
        r = asyncio.run(load(f'http://127.0.0.1:{port}/', queries, bad, args.requests, args.concurrency,
                             args.bad_every, args.k, args.max_seconds))
        after = rss_peak_mb(p.pid)
        r.update(peak_rss_before_mb=round(before[1]), peak_rss_after_mb=round(after[1]))
        return r
    finally:
        p.terminate()
        try: p.wait(10)
        except subprocess.TimeoutExpired: p.kill()

def with_distractors(src: Path, dst: Path, n: int, seed: int = 0) -> Path:
    "A copy of index `src` plus n random unit vectors (items with no file behind them)."
    if dst.exists(): shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns('segments', 'cache'))
    X = np.load(dst/'vectors.npy'); rng = np.random.default_rng(seed)
    R = rng.standard_normal((n, X.shape[1]), dtype=np.float32); R /= np.linalg.norm(R, axis=1, keepdims=True)
    np.save(dst/'vectors.npy', np.concatenate([X, R.astype(np.float16)]))
    items = json.loads((dst/'items.json').read_text())
    items += [dict(path=f'distractors/{i:06d}.jpg', sha256='distractor') for i in range(n)]
    (dst/'items.json').write_text(json.dumps(items))
    m = json.loads((dst/'index.json').read_text()); m['n_images'] = len(items); m['distractors'] = n
    (dst/'index.json').write_text(json.dumps(m, indent=1)); return dst

def latency(work: Path, args) -> dict:
    "One 1024-px photo through Engine.query: decode / extract / search / rerank ms (the reported network, random weights)."
    from soi.engine import build_collection, sample_photos, Engine
    from PIL import Image
    photos = work/'lat-photos'; sample_photos(photos, ['astronaut', 'chelsea', 'coffee', 'rocket'])
    q = work/'query-1024.jpg'; im = Image.open(photos/'astronaut.jpg'); im.resize((1024, 1024), Image.Resampling.LANCZOS).save(q, quality=92)
    idx = work/'lat-index'
    build_collection(photos, idx, model=args.latency_model, image_size=1024, progress=False)
    big = with_distractors(idx, work/'lat-index-100k', args.distractors)
    out = {}
    for name, path, rr in [('4 photos', idx, ['none', 'aqe', 'sv-sift']), (f'4 photos + {args.distractors:,} vectors', big, ['none', 'aqe'])]:
        eng = Engine(path); eng.query([q], k=10)                       # warm-up
        for r in rr:
            runs = [eng.query([q], k=10, rerank=r, top_k=4)[0]['timings_ms'] for _ in range(args.latency_runs)]
            out[f'{name}, rerank {r}'] = {k: round(float(np.median([t[k] for t in runs])), 1) for k in runs[0]}
        del eng
    return dict(model=args.latency_model, image='1024x1024 JPEG', runs=args.latency_runs, median_ms=out, load_avg=os.getloadavg())

def tables(res: dict) -> str:
    "Markdown tables of a serve.json (written beside it as serve.md, included in the README)."
    L = [f"`python benchmarks/serve.py` on {res['machine']}, load average {res['load_avg_start'][0]:.1f} at the start "
         f"and {res['load_avg_end'][0]:.1f} at the end (a shared machine: other jobs ran meanwhile). Load settings: "
         f"{res.get('load_settings')}; the distractors are random unit vectors of the index's dimension.", '',
         '| index | requests | good / bad | errors | bad uploads answered 4xx | p50 ms | p95 ms | requests/s | model batch mean / max | peak RSS MiB before → after |',
         '|---|---|---|---|---|---|---|---|---|---|']
    for k, r in res.items():
        if k.startswith('load: '):
            L.append(f"| {k[6:]} | {r['requests']} | {r['good']} / {r['bad']} | {r['errors']} | {r['bad_4xx']} of {r['bad']} "
                     f"| {r['p50_ms']} | {r['p95_ms']} | {r['throughput_rps']} | {r.get('mean_batch')} / {r.get('max_batch')} "
                     f"| {r['peak_rss_before_mb']} → {r['peak_rss_after_mb']} |")
    if 'latency' in res:
        lt = res['latency']
        la = f", load average {lt['load_avg'][0]:.1f} at its end" if 'load_avg' in lt else ''
        L += ['', f"One {lt['image']} query, {lt['model']} (random weights, 1 scale, 1024 px, float32), median of {lt['runs']} runs{la}, ms:", '',
              '| index, re-ranking | decode | extract | search | re-rank |', '|---|---|---|---|---|']
        L += [f"| {k} | {t['decode']} | {t['extract']} | {t['search']} | {t['rerank']} |" for k, t in lt['median_ms'].items()]
    return '\n'.join(L) + '\n'

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--only', choices=['load', 'latency'], help='run one part only')
    ap.add_argument('--requests', type=int, default=500); ap.add_argument('--concurrency', type=int, default=20)
    ap.add_argument('--bad-every', type=int, default=10, help='every n-th request is a deliberate bad upload')
    ap.add_argument('-k', type=int, default=10); ap.add_argument('--max-upload-mb', type=float, default=4.0)
    ap.add_argument('--distractors', type=int, default=100_000)
    ap.add_argument('--model', default='resnet18-gem', help='network of the load-test index (random weights)')
    ap.add_argument('--image-size', type=int, default=256, help='image size of the load-test index')
    ap.add_argument('--latency-model', default='resnet101-soi'); ap.add_argument('--latency-runs', type=int, default=3)
    ap.add_argument('--max-seconds', type=float, default=600, help='bound of each load run')
    ap.add_argument('--out', default=str(ROOT/'results/bench/serve.json'))
    ap.add_argument('--tables-only', action='store_true', help='only rewrite serve.md from serve.json')
    args = ap.parse_args()
    if args.tables_only:
        Path(args.out).with_suffix('.md').write_text(tables(json.loads(Path(args.out).read_text()))); return
    from soi.engine import build_collection, sample_photos, sample_queries
    work = Path(tempfile.mkdtemp(prefix='soi-bench-serve-'))
    res = dict(machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores", load_avg_start=os.getloadavg())
    try:
        if args.only in (None, 'load'):
            photos = work/'photos'; sample_photos(photos); qs = list(sample_queries(photos, work/'queries'))
            queries = qs + [str(p) for p in sorted(photos.iterdir())[:6]]
            idx = work/'index'; build_collection(photos, idx, model=args.model, image_size=args.image_size, progress=False)
            res['load_settings'] = dict(requests=args.requests, concurrency=args.concurrency, bad_every=args.bad_every,
                                        k=args.k, model=args.model, image_size=args.image_size)
            for name, path in [('20 photos', idx), (f'20 photos + {args.distractors:,} vectors',
                                                     with_distractors(idx, work/'index-big', args.distractors))]:
                print(f'load: {name} ...', flush=True); r = run_load(path, queries, args); res[f'load: {name}'] = r
                print(json.dumps(r), flush=True)
        if args.only in (None, 'latency'):
            print('latency ...', flush=True); res['latency'] = latency(work, args); print(json.dumps(res['latency'], indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res['load_avg_end'] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(Path(args.out).read_text()) if Path(args.out).is_file() and args.only else {}
    res = {**old, **res}; Path(args.out).write_text(json.dumps(res, indent=1))
    Path(args.out).with_suffix('.md').write_text(tables(res)); print(f'-> {args.out}'); print(tables(res))

if __name__ == '__main__':
    main()
