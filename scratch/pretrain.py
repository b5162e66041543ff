"Scratch: classification pre-training of a resnet18 trunk on the ToyLandmarks TRAINING split's landmark labels."
import json, sys, time, math, argparse
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image
from soi.config import seed_everything
from soi.mining import open_tuple_source
from soi.model import create_model
from soi.train import validate

ap = argparse.ArgumentParser()
ap.add_argument('--epochs', type=int, default=6); ap.add_argument('--size', type=int, default=128)
ap.add_argument('--lr', type=float, default=1e-3); ap.add_argument('--bs', type=int, default=32)
ap.add_argument('--scale', type=float, default=16.); ap.add_argument('--seed', type=int, default=0)
ap.add_argument('--model', default='resnet18-gem'); ap.add_argument('--out', default='/tmp/i14_pre.pt')
ap.add_argument('--val_every', type=int, default=2); ap.add_argument('--val_size', type=int, default=256)
a = ap.parse_args()
torch.set_num_threads(2); seed_everything(a.seed)
src = open_tuple_source('toy-small', 'train', data='/work/data')
t0 = time.time()
S = int(a.size * 1.25)
def load(p):
    im = Image.open(p).convert('RGB'); w, h = im.size; r = S / min(w, h)
    return torch.from_numpy(np.asarray(im.resize((max(S, round(w * r)), max(S, round(h * r))), Image.BILINEAR))).permute(2, 0, 1)
ims = [load(p) for p in src.paths]; y = torch.as_tensor(src.cluster); y = torch.unique(y, return_inverse=True)[1]
print('loaded', len(ims), 'images in', round(time.time() - t0, 1), 's', flush=True)
net = create_model(a.model)
mean, std = torch.tensor(net.meta['mean']).view(1, 3, 1, 1), torch.tensor(net.meta['std']).view(1, 3, 1, 1)
K = int(y.max()) + 1; W = nn.Parameter(torch.randn(K, net.meta['outputdim']) * 0.01)
opt = torch.optim.AdamW([{'params': net.parameters()}, {'params': [W]}], lr=a.lr, weight_decay=1e-4)
steps = a.epochs * (len(ims) // a.bs); sched = torch.optim.lr_scheduler.OneCycleLR(opt, a.lr, total_steps=steps, pct_start=0.15)
g = torch.Generator().manual_seed(a.seed)
def batch(idx):
    xs = []
    for i in idx:
        im = ims[i]; _, h, w = im.shape
        s = float(torch.empty(1).uniform_(0.35, 1.0, generator=g)); ar = math.exp(float(torch.empty(1).uniform_(-0.3, 0.3, generator=g)))
        ch, cw = min(h, int(round(math.sqrt(s * h * w / ar)))), min(w, int(round(math.sqrt(s * h * w * ar))))
        y0 = int(torch.randint(0, h - ch + 1, (1,), generator=g)); x0 = int(torch.randint(0, w - cw + 1, (1,), generator=g))
        c = im[:, y0:y0 + ch, x0:x0 + cw].unsqueeze(0).float() / 255
        c = F.interpolate(c, size=(a.size, a.size), mode='bilinear', align_corners=False, antialias=True)
        b = float(torch.empty(1).uniform_(0.7, 1.3, generator=g)); c = (c * b).clamp(0, 1)
        xs.append(c)
    return (torch.cat(xs) - mean) / std
log = []
for ep in range(a.epochs):
    net.train(); t1 = time.time(); perm = torch.randperm(len(ims), generator=g); L, acc = [], []
    for s in range(len(ims) // a.bs):
        idx = perm[s * a.bs:(s + 1) * a.bs]; x = batch(idx.tolist())
        with torch.autocast('cpu', dtype=torch.bfloat16):
            d = net(x)
        logits = a.scale * F.linear(F.normalize(d.float()), F.normalize(W))
        loss = F.cross_entropy(logits, y[idx]); opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        L.append(loss.item()); acc.append((logits.argmax(1) == y[idx]).float().mean().item())
    row = dict(epoch=ep + 1, loss=float(np.mean(L)), acc=float(np.mean(acc)), sec=round(time.time() - t1, 1))
    if (ep + 1) % a.val_every == 0 or ep + 1 == a.epochs:
        net.eval(); r = validate(net, 'toy-small', a.val_size, data='/work/data', device='cpu')
        row.update({k[0].upper(): round(100 * r[k]['mAP'], 2) for k in ('easy', 'medium', 'hard')})
    print(row, flush=True); log.append(row)
torch.save(net.state_dict(), a.out)
rec = dict(kind='pretrain', args=vars(a), log=log, minutes=round((time.time() - t0) / 60, 2))
open('/work/wt/i14/scratch/runs.jsonl', 'a').write(json.dumps(rec) + '\n')
