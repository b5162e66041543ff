"Scratch: SIFT + RANSAC re-ranking (top 100, as toy_baselines) of a fine-tuned checkpoint's ranking on toy-small."
import sys, json, time
import numpy as np, torch, cv2
from soi.model import load_checkpoint
from soi.data import open_dataset, load_image
from soi.extract import extract_features
from soi.index import knn
from soi.evaluate import evaluate_revisited
torch.set_num_threads(2); cv2.setNumThreads(1)
path, tag = sys.argv[1], sys.argv[2]
net = load_checkpoint(path); net = net[0] if isinstance(net, tuple) else net; net.eval()
ds = open_dataset('toy-small', '/work/data'); t0 = time.time()
kw = dict(image_size=256, device='cpu', progress=False)
X, Q = extract_features(net, ds.db_paths, **kw), extract_features(net, ds.query_paths, bbxs=ds.bbxs, **kw)
ranks = knn(Q, X, len(X))[1]
emh = lambda r: {p[0].upper(): round(100 * r[p]['mAP'], 2) for p in ('easy', 'medium', 'hard')}
first = emh(evaluate_revisited(ranks, ds.gnd))
sift_, bf = cv2.SIFT_create(nfeatures=1000), cv2.BFMatcher(cv2.NORM_L2)
def sift(p, bbx=None):
    k, d = sift_.detectAndCompute(np.asarray(load_image(p, 448, bbx).convert('L')), None)
    return np.float32([q.pt for q in k]).reshape(-1, 2), d
def inliers(a, b, ratio=0.8, thr=5.0):
    if a[1] is None or b[1] is None or len(a[1]) < 2 or len(b[1]) < 2: return 0
    m = [x[0] for x in bf.knnMatch(a[1], b[1], k=2) if len(x) == 2 and x[0].distance < ratio * x[1].distance]
    if len(m) < 4: return 0
    _, mask = cv2.findHomography(a[0][[x.queryIdx for x in m]], b[0][[x.trainIdx for x in m]], cv2.USAC_MAGSAC, thr)
    return 0 if mask is None else int(mask.sum())
FX, FQ = [sift(p) for p in ds.db_paths], [sift(p, b) for p, b in zip(ds.query_paths, ds.bbxs)]
rr = ranks.copy()
for q in range(len(ranks)):
    s = np.array([inliers(FQ[q], FX[i]) for i in ranks[q, :100]]); rr[q, :100] = ranks[q, :100][np.argsort(-s, kind='stable')]
after = emh(evaluate_revisited(rr, ds.gnd)); print(tag, 'first stage', first, '+ sift-ransac', after, round(time.time() - t0, 1), 's')
open('/work/wt/i14/scratch/runs.jsonl', 'a').write(json.dumps(dict(kind='rerank', tag=tag, checkpoint=path, first=first, reranked=after, seconds=round(time.time() - t0, 1))) + '\n')
