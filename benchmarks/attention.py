"""Peak memory and time of the SOA block at training-crop sizes: explicit softmax vs scaled_dot_product_attention.

SOLAR trains at 1024x1024 crops: layer3 maps are 64x64 (4096 positions, 1024 channels, k=4) and layer4 maps 32x32
(1024 positions, 2048 channels, k=2). The explicit form keeps a (B, 4096, 4096) attention matrix (and its softmax
and gradient); SDPA can run a fused kernel that never stores it. Each configuration runs forward + backward in a
fresh subprocess and reports its peak resident memory (CPU) or torch.cuda.max_memory_allocated (GPU).

    python benchmarks/attention.py [--device cpu|cuda] [--batch 2] [--crop 1024]
"""
import argparse, json, os, resource, subprocess, sys, time

def run_one(args):
    import torch
    from soi.attention import SOABlock, soa_explicit, soa_sdpa
    torch.manual_seed(0)
    dev = args.device
    C, k, s = (1024, 4, args.crop // 16) if args.stage == 'layer3' else (2048, 2, args.crop // 32)
    blk = SOABlock(C, k).to(dev)
    torch.nn.init.normal_(blk.v.weight, std=1e-3)        # non-zero v, so the attention path has a gradient
    x = torch.randn(args.batch, C, s, s, device=dev, requires_grad=not args.inference)
    if args.inference: blk.eval()
    base = torch.cuda.memory_allocated() if dev == 'cuda' else 0
    if dev == 'cuda': torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for _ in range(args.reps):
        with torch.set_grad_enabled(not args.inference):
            out = blk(x, return_attention=(args.impl == 'explicit'))
            out = out[0] if isinstance(out, tuple) else out
            if not args.inference: out.square().mean().backward()
    if dev == 'cuda': torch.cuda.synchronize()
    dt = (time.perf_counter() - t) / args.reps
    peak = (torch.cuda.max_memory_allocated() - base) if dev == 'cuda' else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({'seconds': dt, 'peak_bytes': peak, 'positions': s * s, 'channels': C}))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cpu'); ap.add_argument('--batch', type=int, default=2)
    ap.add_argument('--crop', type=int, default=1024); ap.add_argument('--reps', type=int, default=1)
    ap.add_argument('--inference', action='store_true', help='forward only, no gradient (extraction)')
    ap.add_argument('--stage', default=None); ap.add_argument('--impl', default=None)
    args = ap.parse_args()
    if args.impl: return run_one(args)
    import torch
    dev = f"{args.device} ({torch.cuda.get_device_name() if args.device == 'cuda' else os.cpu_count()} {'' if args.device == 'cuda' else 'CPU cores'})"
    print(f"SOA block {'forward (no grad)' if args.inference else 'forward+backward'}, batch {args.batch}, {args.crop}x{args.crop} crops, {dev}, torch {torch.__version__}")
    print('| stage | positions | implementation | peak memory (MiB) | seconds / step |')
    print('|---|---:|---|---:|---:|')
    rows = {}
    for stage in ('layer3', 'layer4'):
        for impl in ('explicit', 'sdpa'):
            r = subprocess.run([sys.executable, __file__, '--device', args.device, '--batch', str(args.batch), '--crop',
                                str(args.crop), '--reps', str(args.reps), '--stage', stage, '--impl', impl]
                               + (['--inference'] if args.inference else []),
                               capture_output=True, text=True)
            if r.returncode: print(f'| {stage} | | {impl} | failed: {r.stderr.strip().splitlines()[-1]} | |'); continue
            d = json.loads(r.stdout.strip().splitlines()[-1]); rows[stage, impl] = d
            print(f"| {stage} | {d['positions']} | {impl} | {d['peak_bytes'] / 2**20:.0f} | {d['seconds']:.2f} |")
    for stage in ('layer3', 'layer4'):
        if (stage, 'explicit') in rows and (stage, 'sdpa') in rows:
            a, b = rows[stage, 'explicit']['peak_bytes'], rows[stage, 'sdpa']['peak_bytes']
            print(f'{stage}: SDPA peak / explicit peak = {b / a:.2f}')

if __name__ == '__main__':
    main()
