"""Benchmark: spatial verification (soi.spatial) re-ranking the top-K of a first stage on ToyLandmarks.

    python benchmarks/spatial.py --data /tmp/data                          # toy-small, thumbnail first stage, sv-sift
    python benchmarks/spatial.py --first-stage resnet18-gem --methods sv-sift sv-hardnet --hardnet-random

Builds (or reuses) ToyLandmarks with soi.toy.ensure_toy, ranks the database with a first stage, extracts the
database local features once into a LocalFeatureStore under <results>/bench-spatial/, re-ranks the top K with
soi.spatial.spatial_rerank and prints one table: Easy/Medium/Hard mAP (soi.evaluate.evaluate_revisited) without
and with each method, the re-ranking time per query (query features + matching + MAGSAC++ for K candidates) and
the one-off database extraction time. sv-hardnet and loftr need their weights in $TORCH_HOME/hub/checkpoints;
--hardnet-random / --loftr-random run them with random weights (flow and timing only: their mAP means nothing).
"""
import argparse, json, os, time
import numpy as np
from soi.config import add_config_args, config_from_args
from soi.data_custom import open_dataset
from soi.data import load_image
from soi.evaluate import evaluate_revisited
from soi.index import knn
from soi.spatial import METHODS, extract_local_features, local_nets, spatial_rerank

def thumbnails(paths, bbxs=None, side:int=8) -> np.ndarray:
    "Tiny-thumbnail descriptors: side x side RGB, mean-centred, L2-normalised rows (a weak but honest first stage)."
    bbxs = bbxs or [None] * len(paths)
    X = np.stack([np.asarray(load_image(p, None, b).resize((side, side), 4), np.float32).ravel() for p, b in zip(paths, bbxs)])
    X -= X.mean(1, keepdims=True)
    return X / (np.linalg.norm(X, axis=1, keepdims=True) + 1e-6)

def first_stage(ds, name:str, image_size:int):
    "(scores, ranks) over the whole database, and seconds taken."
    t = time.perf_counter()
    if name == 'thumbnail':
        Q, X = thumbnails(ds.query_paths, ds.bbxs), thumbnails(ds.db_paths)
    else:  # a registered soi model with random weights, e.g. resnet18-gem
        import torch
        from soi.model import create_model
        from soi.extract import extract_features
        torch.manual_seed(0); net = create_model(name)
        X = extract_features(net, ds.db_paths, image_size=image_size, device='cpu', progress=False)
        Q = extract_features(net, ds.query_paths, image_size=image_size, bbxs=ds.bbxs, device='cpu', progress=False)
    S, R = knn(Q, X, ds.n_db)
    return S, R, time.perf_counter() - t

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='small', help='ToyLandmarks preset (default small: 500 db images, 60 queries)')
    ap.add_argument('--first-stage', default='thumbnail', help="'thumbnail' or a soi model name with random weights (e.g. resnet18-gem)")
    ap.add_argument('--methods', nargs='+', default=['sv-sift'], choices=METHODS)
    ap.add_argument('--top-k', type=int, default=100)
    ap.add_argument('--image-size', type=int, default=448, help='longer side for local features (toy-small images are <= 448)')
    ap.add_argument('--max-kpts', type=int, default=1000)
    ap.add_argument('--min-inliers', type=int, default=15)
    ap.add_argument('--queries', type=int, default=None, help='use only the first N queries (quick runs)')
    ap.add_argument('--hardnet-random', action='store_true', help='run sv-hardnet with random AffNet/HardNet8 weights')
    ap.add_argument('--loftr-random', action='store_true', help='run loftr with random weights')
    ap.add_argument('--threads', type=int, default=1, help='torch and OpenCV threads (1 is fastest on a shared machine)')
    ap.add_argument('--progress', action='store_true', help='tqdm bars')
    ap.add_argument('--json', help='also write the rows to this JSON file')
    add_config_args(ap)
    a = ap.parse_args(argv)
    import torch, cv2
    torch.set_num_threads(a.threads); cv2.setNumThreads(a.threads)
    cfg = config_from_args(a)
    from soi.toy import ensure_toy
    ensure_toy(a.preset, cfg)
    ds = open_dataset(f'toy-{a.preset}', cfg)
    nq = a.queries or ds.n_queries
    qpaths, qbbxs, gnd = ds.query_paths[:nq], ds.bbxs[:nq], ds.gnd[:nq]
    S, R, t_fs = first_stage(ds, a.first_stage, a.image_size)
    S, R = S[:nq], R[:nq]
    def row(method, ranks, ms, extract_s):
        r = evaluate_revisited(ranks, gnd)
        return dict(method=method, E=100 * r['easy']['mAP'], M=100 * r['medium']['mAP'], H=100 * r['hard']['mAP'],
                    ms_per_query=ms, db_extract_s=extract_s)
    rows = [row(a.first_stage, R, None, t_fs)]   # first stage: global features of db + queries, then knn
    for m in a.methods:
        random = (m == 'sv-hardnet' and a.hardnet_random) or (m == 'loftr' and a.loftr_random)
        nets = local_nets(m, pretrained=not random)
        t, store, cached = time.perf_counter(), None, False
        if m != 'loftr':
            folder = cfg.results/'bench-spatial'/f'{ds.name}-{m}-{a.image_size}-{a.max_kpts}{"-random" if random else ""}'
            cached = (folder/'manifest.json').is_file()
            store = extract_local_features(ds.db_paths, m, folder, a.image_size, a.max_kpts, nets=nets, progress=a.progress)
        t_ex = 'none (pairs)' if m == 'loftr' else 'reused' if cached else time.perf_counter() - t
        t = time.perf_counter()
        S2, R2 = spatial_rerank(qpaths, ds.db_paths, S, R, method=m, qbbxs=qbbxs, top_k=a.top_k, image_size=a.image_size,
                                features=store, max_kpts=a.max_kpts, min_inliers=a.min_inliers, nets=nets, progress=a.progress)
        rows.append(row(f'{a.first_stage} + {m}{" (random weights)" if random else ""}', R2,
                        1000 * (time.perf_counter() - t) / nq, t_ex))
    print(f"\nToyLandmarks {a.preset}: {ds.n_db} db images, {nq} queries; top_k={a.top_k}, image_size={a.image_size}, "
          f"max_kpts={a.max_kpts}, min_inliers={a.min_inliers}, {a.threads} threads, load average {os.getloadavg()[0]:.1f}\n")
    print('| method | E | M | H | ms/query | db extraction s |\n|---|---|---|---|---|---|')
    for r in rows:
        ms = '' if r['ms_per_query'] is None else f"{r['ms_per_query']:.0f}"
        ex = r['db_extract_s'] if isinstance(r['db_extract_s'], str) else f"{r['db_extract_s']:.1f}"
        print(f"| {r['method']} | {r['E']:.2f} | {r['M']:.2f} | {r['H']:.2f} | {ms} | {ex} |")
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(args=vars(a), rows=rows), f, indent=1)
    return rows

if __name__ == '__main__':
    main()
