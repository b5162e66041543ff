"""Benchmark: exact top-k search over fp16 descriptors: soi.index.knn in float32 (the reference), soi's bf16 search
(bf16 candidates re-scored in fp32, soi.index.knn_fast) with and without a bf16 copy of the rows, FAISS IndexFlatIP,
a naive full-argsort loop; and IVF-PQ recall@k against the exact result with its memory per vector.

    python benchmarks/search.py --skip-naive --skip-faiss --skip-ivf   # 1M x 2048: fp32 vs bf16 exact search (~8 GiB)
    python benchmarks/search.py                      # everything: 1,000,000 x 2048 fp16 rows, 70 queries, k=100
    python benchmarks/search.py --n 100000           # a quicker run
    python benchmarks/search.py --device cuda        # on a GPU (rows moved to it once)

Rows are random Gaussian vectors, L2-normalised, stored as fp16 (1M x 2048 = 4 GB; a bf16 copy 4 GB more; FAISS needs
a float32 copy, 8 GB more, made in slices of 65,536 rows). The script checks that every exact method returns the same
ids as knn in float32 (and reports how many differ), then prints one table of times; the numbers also go to
benchmarks/results/search_<n>_<device>.json (rendered into RESULTS.md by tools/render_results.py). Random vectors have no neighbourhood
structure, so IVF-PQ recall on them is a worst case; it is reported as measured.
"""
import argparse, datetime, os, platform, resource, sys, time
import numpy as np, torch
import json
from pathlib import Path
from soi.index import knn, knn_fast, bf16_rows, build_index, recall_at_k, _faiss
from soi.config import cpu_bf16

def rows(n, d, seed, block=65536):
    "n random L2-normalised fp16 rows, generated block by block (no float32 copy of the whole)."
    rng, out = np.random.default_rng(seed), np.empty((n, d), np.float16)
    for i in range(0, n, block):
        a = rng.standard_normal((min(block, n - i), d), dtype=np.float32)
        out[i:i + len(a)] = a / np.linalg.norm(a, axis=1, keepdims=True)
    return out

def timed(f):
    "(result, wall s, CPU s) of one call."
    w, c = time.perf_counter(), time.process_time(); r = f()
    return r, time.perf_counter() - w, time.process_time() - c

def naive(Q, X, k, block=65536):
    "The slow baseline: full (nq, N) scores, then one full argsort per query in a Python loop."
    S = np.empty((len(Q), len(X)), np.float32); q = torch.from_numpy(Q.astype(np.float32))
    for i in range(0, len(X), block): S[:, i:i + block] = (q @ torch.from_numpy(X[i:i + block]).float().T).numpy()
    return np.stack([np.argsort(-s)[:k] for s in S])

def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=1_000_000); ap.add_argument('--d', type=int, default=2048)
    ap.add_argument('--nq', type=int, default=70); ap.add_argument('--k', type=int, default=100)
    ap.add_argument('--ivf', default='IVF1024,PQ64'); ap.add_argument('--train-sample', type=int, default=65536)
    ap.add_argument('--nprobe', default='1,16,64'); ap.add_argument('--skip-ivf', action='store_true')
    ap.add_argument('--faiss-threads', type=int, help='faiss.omp_set_num_threads (default: FAISS decides)')
    ap.add_argument('--append-results', action='store_true')
    ap.add_argument('--skip-naive', action='store_true'); ap.add_argument('--skip-faiss', action='store_true')
    ap.add_argument('--device', default='cpu', help="torch device of the exact searches ('cuda': rows moved there once)")
    ap.add_argument('--json', help='write the numbers here (default benchmarks/results/search_<n>_<device>.json)')
    ap.add_argument('--repeat', type=int, default=3, help='timed calls per exact method after a first one: their median is reported, the first apart')
    ap.add_argument('--saved', help='also save an exact index of the rows in this folder (rows + bf16 copy, ~2x the fp16 '
                                    'bytes) and time load_index + its first search in a fresh process')
    a = ap.parse_args(argv); cmd = ' '.join(sys.argv[1:] if argv is None else argv)
    t0 = time.time(); X, Q = rows(a.n, a.d, 0), rows(a.nq, a.d, 1).astype(np.float32)
    print(f"data: {a.n} x {a.d} fp16 ({X.nbytes / 2**30:.2f} GiB), {a.nq} queries, made in {time.time() - t0:.0f} s; "
          f"bf16 units: {cpu_bf16()}; load {os.getloadavg()[0]:.2f}", flush=True)
    Xd = X if a.device == 'cpu' else torch.from_numpy(X).to(a.device)
    Qd = Q if a.device == 'cpu' else torch.from_numpy(Q).to(a.device)
    out = []
    from machine import peaks
    pk = peaks(a.device); print('matrix product GFLOP/s:', pk, flush=True)
    first = {}
    def exact(label, f):
        (_, w0, _) = timed(f)                           # the first call (kernels, allocator, pages of fresh rows), reported apart
        if a.device != 'cpu': torch.cuda.synchronize()
        runs = []
        for _ in range(max(1, a.repeat)):             # a server searches many times: the median of the calls after it
            (s_, i_), w, c = timed(f)
            if a.device != 'cpu': torch.cuda.synchronize()
            runs.append((w, c))
        first[label] = w0; w, c = sorted(runs)[len(runs) // 2]
        out.append((label, w, c, recall_at_k(i_, ei) if out else 1.0, int((i_ != ei).sum()) if out else 0,
                    float(np.abs(s_ - es).max()) if out else 0.0))
        print(out[-1], f'first call {w0:.2f} s; load {os.getloadavg()[0]:.2f}', flush=True); return s_, i_
    ei = es = None
    es, ei = exact('soi.index.knn, fp32 products (fp16 rows -> fp32 per chunk)', lambda: knn(Qd, Xd, a.k, device=a.device, precision='fp32'))
    exact('soi.index.knn, bf16 candidates + fp32 re-scoring (fp16 rows -> bf16 per chunk)', lambda: knn_fast(Qd, Xd, a.k, device=a.device))
    Xl, wl, _ = timed(lambda: bf16_rows(Xd)); print(f'bf16 copy of the rows made in {wl:.1f} s (once per index)', flush=True)
    exact('soi.index.knn, bf16 candidates + fp32 re-scoring (bf16 copy of the rows kept)', lambda: knn_fast(Qd, Xd, a.k, device=a.device, X_low=Xl))
    del Xl
    saved = None
    if a.saved:   # an exact index saved with its bf16 copy, loaded in a fresh process: load + first search
        import subprocess, tempfile
        (_, ws, _) = timed(lambda: build_index(X, 'exact').save(a.saved)); np.save(Path(a.saved)/'queries.npy', Q)
        code = ("import time, numpy as np; t = time.perf_counter(); from soi.index import load_index; "
                f"ix = load_index({a.saved!r}); Q = np.load({a.saved!r} + '/queries.npy'); t1 = time.perf_counter(); "
                f"s, i = ix.search(Q, {a.k}); t2 = time.perf_counter(); np.save({a.saved!r} + '/ids.out.npy', i); "
                "print(t1 - t, t2 - t1)")
        lt, st = map(float, subprocess.run([sys.executable, '-c', code], check=True, capture_output=True, text=True).stdout.split())
        si = np.load(Path(a.saved)/'ids.out.npy')
        saved = dict(save_s=round(ws, 2), load_s=round(lt, 3), first_search_s=round(st, 3), ids_differing=int((si != ei).sum()),
                     recall=recall_at_k(si, ei))
        print('saved exact index, fresh process:', saved, flush=True)
    if not a.skip_naive:
        ni, w, c = timed(lambda: naive(Q, X, a.k)); out.append(('naive: full scores + argsort per query', w, c, recall_at_k(ni, ei), int((ni != ei).sum()), float('nan')))
        print(out[-1], flush=True)
    if a.skip_faiss: a.skip_ivf = True
    if not a.skip_faiss:
        faiss = _faiss()
        if a.faiss_threads: faiss.omp_set_num_threads(a.faiss_threads)
        (ix, wb, cb) = timed(lambda: build_index(X, 'Flat'))
        (fs, fi), w, c = timed(lambda: ix.search(Q, a.k))
        out.append((f'FAISS IndexFlatIP (fp32 copy; add took {wb:.1f} s)', w, c, recall_at_k(fi, ei), int((fi != ei).sum()), float('nan')))
        print(out[-1], flush=True); del ix
    ivf = []
    if not a.skip_ivf:
        ix, wb, cb = timed(lambda: build_index(X, a.ivf, train_sample=a.train_sample))
        bpv = len(faiss.serialize_index(ix.index)) / ix.ntotal
        code = faiss.extract_index_ivf(ix.index).invlists.code_size
        for p in map(int, a.nprobe.split(',')):
            ix.set_params(nprobe=p); (s, i), w, c = timed(lambda: ix.search(Q, a.k))
            ivf.append((p, recall_at_k(i, ei), w, c)); print(ivf[-1], flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    when = datetime.date.today().isoformat(); load = os.getloadavg()[0]
    md = [f"### {a.n:,} x {a.d} fp16 rows, {a.nq} queries, top-{a.k} ({platform.machine()}, {os.cpu_count()} cores, "
          f"{torch.get_num_threads()} torch threads, load average {load:.1f}, {when})", "",
          f"Command: `.venv/bin/python benchmarks/search.py {cmd}`; peak RSS {peak:.1f} GiB.", "",
          "| exact method | wall s | CPU s | ms/query | x fp32 | recall@%d vs fp32 | ids differing | max score diff |" % a.k,
          "|---|---|---|---|---|---|---|---|"]
    md += [f"| {m} | {w:.2f} | {c:.2f} | {1000 * w / a.nq:.1f} | {out[0][1] / w:.1f} | {r:.4f} | {nd} | {sd:.1e} |" for m, w, c, r, nd, sd in out]
    flop = 2 * a.nq * a.n * a.d; nmd = len(md); md += ["", f"Median of {max(1, a.repeat)} calls after a first one; first calls: " + ', '.join(f'{v:.2f} s' for v in first.values())
                                         + f". Matrix product on this machine: {pk['fp32']:.0f} GFLOP/s fp32, {pk['bf16']:.0f} GFLOP/s bf16 "
                                         f"(benchmarks/machine.py), so the {flop / 1e9:.0f} GFLOP of the scores alone take at least "
                                         f"{flop / 1e9 / pk['fp32']:.2f} s in fp32 and {flop / 1e9 / pk['bf16']:.2f} s in bf16."]
    if saved: md += ["", f"Saved exact index (rows + bf16 copy, written in {saved['save_s']:.1f} s), in a fresh process: load_index "
                         f"{saved['load_s']:.2f} s, first search {saved['first_search_s']:.2f} s, {saved['ids_differing']} ids differing from fp32."]
    if ivf:
        md += ["", f"`{a.ivf}` trained on {min(a.train_sample, a.n):,} rows, built (train + add) in {wb:.0f} s; "
               f"{code} bytes of code + 8 of id per vector in the inverted lists ({bpv:.1f} bytes per vector for the whole "
               f"serialised index / N, quantizers included) vs {2 * a.d} (fp16) and {4 * a.d} (fp32).", "",
               f"| nprobe | recall@{a.k} | wall s | ms/query |", "|---|---|---|---|"]
        md += [f"| {p} | {r:.4f} | {w:.3f} | {1000 * w / a.nq:.2f} |" for p, r, w, c in ivf]
    notes = ' '.join(x for x in md[nmd:] if x and not x.startswith('|'))
    text = '\n'.join(md); print(text)
    res = dict(n=a.n, d=a.d, nq=a.nq, k=a.k, device=a.device, bf16_units=cpu_bf16(), machine=platform.machine(), cores=os.cpu_count(),
               threads=torch.get_num_threads(), load=round(load, 2), date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
               peak_rss_gib=round(peak, 2), bf16_copy_s=round(wl, 2), command=f'python benchmarks/search.py {cmd}',
               rows=[dict(method=m, wall_s=round(w, 3), cpu_s=round(c, 3), x_fp32=round(out[0][1] / w, 2), recall=r, ids_differing=nd,
                          max_score_diff=sd) for m, w, c, r, nd, sd in out],
               ivf=[dict(nprobe=p, recall=r, wall_s=w) for p, r, w, c in ivf], repeat=max(1, a.repeat),
               first_call_s={m: round(v, 3) for m, v in first.items()}, gemm_gflops=pk, saved_index=saved, notes=notes)
    jp = Path(a.json) if a.json else Path(__file__).resolve().parent / 'results' / f'search_{a.n}_{a.device}.json'
    jp.parent.mkdir(parents=True, exist_ok=True); jp.write_text(json.dumps(res, indent=1)); print('wrote', jp)
    if a.append_results:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'RESULTS.md')
        head = '' if os.path.exists(path) else '# Benchmark results\n'
        with open(path, 'a') as f: f.write(head + '\n## search (`benchmarks/search.py`)\n\n' + text + '\n')

if __name__ == '__main__': main()
