"Scratch: fine-tune with soi.train from a pre-trained (or random) start; BN policy emulated by monkeypatching."
import json, time, argparse
from dataclasses import replace, asdict
import torch
import soi.train as T
from soi.config import seed_everything
ap = argparse.ArgumentParser()
ap.add_argument('--init', default='/tmp/i14_pre10.pt'); ap.add_argument('--bn', default='frozen')
ap.add_argument('--epochs', type=int, default=8); ap.add_argument('--query_size', type=int, default=200)
ap.add_argument('--pool_size', type=int, default=600); ap.add_argument('--lr', type=float, default=1e-5)
ap.add_argument('--size', type=int, default=128); ap.add_argument('--soa', type=int, default=1)
ap.add_argument('--sos', type=int, default=1); ap.add_argument('--loss', default='contrastive')
ap.add_argument('--margin', type=float, default=0.7); ap.add_argument('--seed', type=int, default=0)
ap.add_argument('--val_every', type=int, default=2); ap.add_argument('--tag', default='')
a = ap.parse_args()
torch.set_num_threads(2)
if a.bn == 'train': T.set_batchnorm_eval = lambda net: net          # BN in training mode
cfg = replace(T.recipes['toy'], export_dir=f'/tmp/i14_ft_{a.tag or a.bn}', training_dataset='toy-small', val_dataset='toy-small',
              val_image_size=256, image_size=a.size, epochs=a.epochs, query_size=a.query_size, pool_size=a.pool_size,
              lr=a.lr, soa=bool(a.soa), soa_layers='45' if a.soa else None, sos=bool(a.sos), loss=a.loss, loss_margin=a.margin,
              seed=a.seed, progress=False, device='cpu', val_every=a.val_every, data='/work/data')
seed_everything(a.seed); net = T.build_model(cfg)
if a.init != 'none':
    miss, unexp = net.load_state_dict(torch.load(a.init), strict=False); print('missing', miss, 'unexpected', unexp)
net.eval(); r0 = T.validate(net, 'toy-small', 256, data='/work/data', device='cpu')
before = {k[0].upper(): round(100 * r0[k]['mAP'], 2) for k in ('easy', 'medium', 'hard')}; print('before', before, flush=True)
t0 = time.time(); res = T.train(cfg, net=net); minutes = round((time.time() - t0) / 60, 2)
hist = [{k: (round(100 * v, 2) if k.startswith('val_') else round(v, 4) if isinstance(v, float) else v) for k, v in h.items()} for h in res['history']]
for h in hist: print(h)
last = [h for h in hist if 'val_easy_mAP' in h][-1]
after = {p: last[f'val_{k}_mAP'] for p, k in (('E', 'easy'), ('M', 'medium'), ('H', 'hard'))}
print('after', after, 'minutes', minutes, flush=True)
rec = dict(kind='finetune', args=vars(a), before=before, after=after, minutes=minutes, history=hist)
open('/work/wt/i14/scratch/runs.jsonl', 'a').write(json.dumps(rec) + '\n')
