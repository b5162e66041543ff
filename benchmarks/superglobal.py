"""Benchmark: SuperGlobal (Shao et al., ICCV 2023) in soi on ToyLandmarks, beside the thesis' global re-ranking.

    python benchmarks/superglobal.py --weights results/runs/demo-small/train/model.pt [--distractors 10000]

First stages (the demo network, `soi demo`'s checkpoint, at the demo's 256 px): plain GeM at one scale, three
scales averaged, + regional GeM, + regional GeM and scale GeM over SuperGlobal's scales (0.7071, 1, 1.4142),
and SuperGlobal's whole first stage (+ GeM p = 4.6 and ReLU-up). Each first stage is re-ranked by α-QE, the
thesis' QGE stage A (rank weights, k=3, α=4, query left out), diffusion and `soi.rerank.superglobal_rerank`
(M=400, K=9, β=0.15), on the 500 database images and, with --distractors N, with N rendered ToyLandmarks
distractors added (the variants marked for it are extracted over the whole database; the others only without).
Then superglobal_rerank's cost as M grows (100, 400, 1600) on those features and on synthetic 2048-d rows.

Writes benchmarks/results/superglobal.json (every number, machine, load) and superglobal.md (the tables).
Times are wall-clock on this machine, all queries at once; 'ms/query' is the online part (the first stage's
exact search, or the re-ranking given the first stage), 'offline s' the one-off database side (diffusion's F).
"""
import argparse, datetime, json, math, os, platform, sys, time
from pathlib import Path
import numpy as np

SG_SCALES = (0.7071, 1.0, 1.4142)
# name -> (ModelConfig overrides, scales, set GeM p after loading (None: the checkpoint's), extracted with distractors)
VARIANTS = {   # through soi.extract with the model options (--superglobal-trunk); the others come from one shared pass
    '+ GeM p=4.6 + ReLU-up + regional GeM + scale GeM (SuperGlobal)': (dict(rgem=5, sgem=math.inf, relu_up=0.014), SG_SCALES, 4.6, False),
}

def features(name, spec, paths_db, ds, weights, model, image_size, stores):
    "(X, Q, extraction seconds per image) of one variant, through resumable feature stores."
    import torch
    from soi.model import create_model
    from soi.extract import extract_to_store, load_features
    over, scales, p, _ = spec
    torch.manual_seed(0); net = create_model(model, weights=weights, **over)
    if p is not None:
        with torch.no_grad(): net.pool.p.fill_(p)
    key = f"{len(paths_db)}-" + ''.join(c if c.isalnum() else '_' for c in name)[:60]
    kw = dict(image_size=image_size, scales=scales, batch_size=32, checkpoint=weights, progress=False)
    t = time.perf_counter()
    X, mx = load_features(extract_to_store(net, paths_db, stores/key/'db', **kw))
    Q, mq = load_features(extract_to_store(net, ds.query_paths, stores/key/'queries', bbxs=ds.bbxs, **kw))
    if len(mx['ids']) != len(paths_db) or len(mq['ids']) != ds.n_queries: raise RuntimeError(f'unreadable images, see {stores}/{key}')
    return X.astype(np.float32), Q.astype(np.float32), time.perf_counter() - t

def shared_pass(net, paths, bbxs, image_size, cache, amp):
    """{GeM, 1 scale (demo): X, + regional GeM, 1 scale: X} from ONE single-scale pass of the trunk (the two heads
    share the feature map), float32 rows, cached in chunks of 500 images so that a killed run resumes."""
    import torch
    from soi.extract import ImageList, normalize_images, size_batches
    from soi.pooling import regional_gem
    cache.mkdir(parents=True, exist_ok=True); net.eval(); parts = []
    for c0 in range(0, len(paths), 500):
        f = cache/f'{c0:06d}.npz'
        if not f.exists():
            il = ImageList(paths, image_size, bbxs, range(c0, min(c0 + 500, len(paths)))); ids, A, B = [], [], []
            items = ((i, x) for i, x, err in (il[j] for j in range(len(il))) if x is not None)
            with torch.inference_mode(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp):
                for b in size_batches(items, 32):
                    x = normalize_images(torch.stack([t for _, t in b]), net.meta['mean'], net.meta['std'])
                    fm = net.forward_features(x.contiguous(memory_format=torch.channels_last) if amp else x).float()
                    A.append(net.forward_head(fm).float()); B.append(net.forward_head(regional_gem(fm)).float()); ids += [i for i, _ in b]
            o = np.argsort(ids); np.savez(f, ids=np.asarray(ids)[o], a=torch.cat(A).numpy()[o], b=torch.cat(B).numpy()[o])
        parts.append(np.load(f))
    ids = np.concatenate([p['ids'] for p in parts])
    if len(ids) != len(paths): raise RuntimeError(f'{len(paths) - len(ids)} unreadable images under {cache}')
    return {'GeM, 1 scale (demo)': np.concatenate([p['a'] for p in parts]), '+ regional GeM, 1 scale': np.concatenate([p['b'] for p in parts])}

def shared_pass_multi(net, paths, bbxs, image_size, cache, scales=SG_SCALES):
    """Five first stages from ONE multi-scale pass of the trunk (float32): per scale the feature map is pooled by the
    network's head with and without regional GeM, and the scales are combined by the mean (soi.extract.multiscale's
    rule, msp=1) or by scale GeM. Cached in chunks of 500 images."""
    import torch, torch.nn.functional as F
    from soi.extract import ImageList, normalize_images, size_batches
    from soi.pooling import regional_gem, scale_gem
    cache.mkdir(parents=True, exist_ok=True); net.eval(); parts = []; i1 = list(scales).index(1.0)
    names = ['GeM, 1 scale (demo)', 'GeM, 3 scales (mean)', '+ scale GeM, 3 scales', '+ regional GeM, 1 scale',
             '+ regional GeM + scale GeM, 3 scales']
    l2 = lambda v: v / (v.norm(dim=1, keepdim=True) + 1e-6)
    for c0 in range(0, len(paths), 500):
        f = cache/f'{c0:06d}.npz'
        if not f.exists():
            il = ImageList(paths, image_size, bbxs, range(c0, min(c0 + 500, len(paths)))); ids, out = [], {k: [] for k in names}
            items = ((i, x) for i, x, err in (il[j] for j in range(len(il))) if x is not None)
            with torch.inference_mode():
                for b in size_batches(items, 32):
                    x = normalize_images(torch.stack([t for _, t in b]), net.meta['mean'], net.meta['std']); A, B = [], []
                    for sc in scales:
                        fm = net.forward_features(x if sc == 1 else F.interpolate(x, scale_factor=sc, mode='bilinear', align_corners=False))
                        A.append(net.forward_head(fm)); B.append(net.forward_head(regional_gem(fm)))
                    for k, v in zip(names, (l2(A[i1]), l2(sum(A) / len(A)), scale_gem(torch.stack(A)), l2(B[i1]), scale_gem(torch.stack(B)))):
                        out[k].append(v)
                    ids += [i for i, _ in b]
            o = np.argsort(ids)
            np.savez(f, ids=np.asarray(ids)[o], **{f'v{j}': torch.cat(out[k]).numpy()[o] for j, k in enumerate(names)})
        parts.append(np.load(f))
    if sum(len(p['ids']) for p in parts) != len(paths): raise RuntimeError(f'unreadable images under {cache}')
    return {k: np.concatenate([p[f'v{j}'] for p in parts]) for j, k in enumerate(names)}

def methods(n):
    "name -> (offline(X) -> state or None, online(Q, X, S, R, state) -> (S, R))."
    from soi.rerank import alpha_qe, diffusion, diffusion_offline, superglobal_rerank
    dk = dict(k=min(200, n - 1), trunc=min(2000, n))
    return {
        'first stage (exact search)': (None, None),
        '+ α-QE (k=2, α=3)': (None, lambda Q, X, S, R, st: alpha_qe(Q, X, S, R, n_expand=2, alpha=3.0)),
        '+ QGE stage A, thesis (rank weights, k=3, α=4, no query)': (None, lambda Q, X, S, R, st: alpha_qe(
            Q, X, S, R, n_expand=3, alpha=4.0, weights='rank', include_query=False)),
        f"+ diffusion (k={dk['k']}, trunc={dk['trunc']}, γ=3, α=0.99)": (lambda X: diffusion_offline(X, **dk),
                                                                         lambda Q, X, S, R, st: diffusion(Q, X, S, R, offline=st)),
        '+ SuperGlobal (M=400, K=9, β=0.15)': (None, lambda Q, X, S, R, st: superglobal_rerank(Q, X, S, R, top_k=400, augment_k=9, beta=0.15)),
    }

def evaluate(Q, X, gnd, db, variant, out):
    from soi.index import knn
    from soi.evaluate import evaluate_revisited
    n = len(X); t = time.perf_counter(); S, R = knn(Q, X, n); t_first = time.perf_counter() - t
    for m, (off, on) in methods(n).items():
        t = time.perf_counter(); st = off(X) if off else None; t_off = time.perf_counter() - t
        t = time.perf_counter(); S2, R2 = (S, R) if on is None else on(Q, X, S, R, st)
        dt = t_first if on is None else time.perf_counter() - t
        res = evaluate_revisited(R2, gnd)
        row = dict(database=db, first_stage=variant, method=m, E=100 * res['easy']['mAP'], M=100 * res['medium']['mAP'],
                   H=100 * res['hard']['mAP'], ms_per_query=1000 * dt / len(Q), offline_s=t_off)
        out.append(row); print(json.dumps(row, ensure_ascii=False), flush=True)
    return S, R

def m_scaling(Q, X, gnd, label, Ms=(100, 400, 1600), repeat=3):
    "ms/query (best of `repeat`) and mAP of superglobal_rerank as M grows, on (Q, X)."
    from soi.index import knn
    from soi.rerank import superglobal_rerank
    from soi.evaluate import evaluate_revisited
    S, R = knn(Q, X, min(len(X), max(Ms))); rows = []
    for M in Ms:
        ts = []
        for _ in range(repeat):
            t = time.perf_counter(); s, r = superglobal_rerank(Q, X, S, R, top_k=M); ts.append(time.perf_counter() - t)
        row = dict(features=label, n_db=len(X), dim=X.shape[1], n_queries=len(Q), M=min(M, R.shape[1]), ms_per_query=1000 * min(ts) / len(Q))
        if gnd is not None:
            res = evaluate_revisited(r, gnd); row.update(E=100 * res['easy']['mAP'], M_mAP=100 * res['medium']['mAP'], H=100 * res['hard']['mAP'])
        rows.append(row); print(json.dumps(row), flush=True)
    return rows

def md_tables(res):
    head = (f"ToyLandmarks `small` ({res['n_db']} images, {res['n_queries']} queries), network `{res['model']}` "
            f"(`{res['weights']}`), {res['image_size']} px; {res['machine']}, load average {res['load_before']:.1f} → "
            f"{res['load_after']:.1f}, {res['date']}. Command: `{res['command']}`")
    md = ["# SuperGlobal in soi (benchmarks/superglobal.py)", "", head, "", "## mAP (%) and ms/query", "",
          "| database | first stage | method | E | M | H | ms/query | offline s |", "|---|---|---|---:|---:|---:|---:|---:|"]
    md += [f"| {r['database']} | {r['first_stage']} | {r['method']} | {r['E']:.2f} | {r['M']:.2f} | {r['H']:.2f} | "
           f"{r['ms_per_query']:.2f} | {r['offline_s']:.2f} |" for r in res['rows']]
    md += ["", "## Extraction (database + queries, this CPU)", "", "| first stage | images | s | ms/image |", "|---|---:|---:|---:|"]
    md += [f"| {e['first_stage']} | {e['images']} | {e['seconds']:.0f} | {1000 * e['seconds'] / e['images']:.1f} |" for e in res['extraction']]
    md += ["", "## superglobal_rerank as M grows (best of 3, all queries at once)", "",
           "| features | N | D | queries | M | ms/query | E | M | H |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    md += [f"| {r['features']} | {r['n_db']} | {r['dim']} | {r['n_queries']} | {r['M']} | {r['ms_per_query']:.2f} | "
           + (f"{r['E']:.2f} | {r['M_mAP']:.2f} | {r['H']:.2f} |" if 'E' in r else "– | – | – |") for r in res['m_scaling']]
    return '\n'.join(md) + '\n'

def main(argv=None):
    from soi.config import add_config_args, config_from_args
    from soi.core import write_text
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--weights', default='results/runs/demo-small/train/model.pt', help='the demo checkpoint (soi demo)')
    ap.add_argument('--model', default='resnet18-soi'); ap.add_argument('--image-size', type=int, default=256)
    ap.add_argument('--distractors', type=int, default=0, help='rendered distractor images added to the database')
    ap.add_argument('--superglobal-trunk', action='store_true', help='also extract SuperGlobal\'s whole first stage (ReLU-up, p=4.6)')
    ap.add_argument('--amp', action='store_true', help='with --distractors: bfloat16 autocast + channels-last (CPU AMX)')
    ap.add_argument('--bench-root', default=None, help='data root of the benchmark (default <data>/i13-superglobal)')
    ap.add_argument('--stores', default=None, help='feature stores folder (default <bench-root>/stores)')
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'superglobal'), help='output stem (.json, .md)')
    a = add_config_args(ap).parse_args(argv); cfg = config_from_args(a)
    from soi.toy import build_toy
    from soi.data_custom import open_dataset
    from soi.data import add_distractors
    root = Path(a.bench_root) if a.bench_root else cfg.data/'i13-superglobal'; name = 'toy-small'
    load0 = os.getloadavg()[0]
    if not (root/'test'/name/f'gnd_{name}.pkl').exists(): build_toy(root/'test'/name, 'small', distractors=a.distractors, overwrite=True)
    ds = open_dataset(name, root); dsd = None
    if a.distractors:      # ToyLandmarks distractor i is always the same image: the first N of a (larger) build
        dp = [root/'test'/name/'jpg'/f'distractor_{i:07d}.jpg' for i in range(a.distractors)]
        if not all(p.exists() for p in dp): raise FileNotFoundError(f"{root}: fewer than {a.distractors} distractors; build them with "
                                                                    f"soi toy build --preset small --distractors {a.distractors}")
        dsd = add_distractors(ds, dp)
    n = ds.n_db; rows, extraction, scaling = [], [], []
    if dsd is not None:     # 10k+ images: one single-scale pass of the trunk gives the plain and the regional-GeM rows
        import torch
        from soi.model import create_model
        torch.manual_seed(0); net = create_model(a.model, weights=a.weights); st = Path(a.stores) if a.stores else root/'stores'
        t = time.perf_counter(); Xv = shared_pass(net, dsd.db_paths, None, a.image_size, st/f'shared-{dsd.n_db}-db', a.amp)
        Qv = shared_pass(net, ds.query_paths, ds.bbxs, a.image_size, st/f'shared-{dsd.n_db}-q', a.amp)
        extraction.append(dict(first_stage='one pass, both heads' + (' (bf16)' if a.amp else ''), images=dsd.n_db + ds.n_queries, seconds=time.perf_counter() - t))
        for v in Xv:
            evaluate(Qv[v], Xv[v][:n], ds.gnd, f'{n} images', v, rows)
            evaluate(Qv[v], Xv[v], dsd.gnd, f'+{dsd.n_db - n:,} distractors', v, rows)
        scaling += m_scaling(Qv['+ regional GeM, 1 scale'], Xv['+ regional GeM, 1 scale'], dsd.gnd, 'toy-small+distractors, + regional GeM, 1 scale')
    if dsd is None:         # one 3-scale pass of the trunk gives five first stages
        import torch
        from soi.model import create_model
        torch.manual_seed(0); net = create_model(a.model, weights=a.weights); st = Path(a.stores) if a.stores else root/'stores'
        t = time.perf_counter(); Xv = shared_pass_multi(net, ds.db_paths, None, a.image_size, st/f'shared-ms-{n}-db')
        Qv = shared_pass_multi(net, ds.query_paths, ds.bbxs, a.image_size, st/f'shared-ms-{n}-q')
        extraction.append(dict(first_stage='one 3-scale pass, five first stages', images=n + ds.n_queries, seconds=time.perf_counter() - t))
        for v in Xv: evaluate(Qv[v], Xv[v], ds.gnd, f'{n} images', v, rows)
        v = '+ regional GeM + scale GeM, 3 scales'; scaling += m_scaling(Qv[v], Xv[v], ds.gnd, f'toy-small, {v}')
    for v, spec in (VARIANTS.items() if dsd is None and a.superglobal_trunk else ()):
        paths = dsd.db_paths if (dsd is not None and spec[3]) else ds.db_paths
        X, Q, sec = features(v, spec, paths, ds, a.weights, a.model, a.image_size, Path(a.stores) if a.stores else root/'stores')
        extraction.append(dict(first_stage=v, images=len(paths) + ds.n_queries, seconds=sec))
        evaluate(Q, X[:n], ds.gnd, f'{n} images', v, rows)
        if len(X) > n: evaluate(Q, X, dsd.gnd, f'+{len(X) - n:,} distractors', v, rows)
    rng = np.random.default_rng(0)
    Xs = rng.standard_normal((10000, 2048)).astype(np.float32); Xs /= np.linalg.norm(Xs, axis=1, keepdims=True)
    Qs = Xs[:70] + 0.5 * rng.standard_normal((70, 2048)).astype(np.float32) / math.sqrt(2048); Qs /= np.linalg.norm(Qs, axis=1, keepdims=True)
    scaling += m_scaling(Qs, Xs, None, 'synthetic unit rows (70 queries, ROxford-sized)')
    import torch
    res = dict(command='python benchmarks/superglobal.py ' + ' '.join(sys.argv[1:] if argv is None else argv),
               date=str(datetime.date.today()), machine=f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores, '
               f'torch {torch.__version__} ({torch.get_num_threads()} threads)', load_before=load0, load_after=os.getloadavg()[0],
               model=a.model, weights=a.weights, image_size=a.image_size, n_db=n, n_queries=ds.n_queries,
               distractors=a.distractors, rows=rows, extraction=extraction, m_scaling=scaling)
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out.with_suffix('.json'), json.dumps(res, indent=1, ensure_ascii=False))
    write_text(out.with_suffix('.md'), md_tables(res)); print(md_tables(res))

if __name__ == '__main__':
    main()
