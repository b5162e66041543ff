"""Render the extraction and search sections of benchmarks/RESULTS.md from the JSON files that
benchmarks/extract.py and benchmarks/search.py write under benchmarks/results/ (no number is typed by hand).

    python benchmarks/render_results.py              # print the Markdown
    python benchmarks/render_results.py --write      # replace the section between the markers in RESULTS.md
"""
import argparse, json, sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BEGIN, END = '<!-- begin: precision (benchmarks/render_results.py) -->', '<!-- end: precision -->'

def extract_section(d):
    out = [f"### `{d['command']}`", "",
           f"{d['device']}; {d['model']} at {d['size'][0]}x{d['size'][1]}, {d['n']} images, torch {d['torch']}, "
           f"{d['date']}, load average {d['load_start']} at the start (a shared machine: the wall-clock figures depend on "
           "the other jobs, the CPU-second figures much less).", "",
           "| method | scales | img/s | x loop | img per CPU-s | x loop (CPU) | cosine to fp32, min | warm-up s | load |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in d['rows']:
        f = lambda k, fmt: format(r[k], fmt) if k in r else '–'
        out.append(f"| {r['method']} | {', '.join(f'{s:g}' for s in r['scales'])} | {r['img_per_s']:.3f} | {f('x_classic', '.2f')} | "
                   f"{f('img_per_cpu_s', '.4f')} | {f('x_classic_cpu', '.2f')} | {f('cos_fp32_min', '.6f')} | {r['warmup_s']} | {r['load']} |")
    if 'decode_difference_cpu' in d:
        dd = d['decode_difference_cpu']
        out += ["", f"PIL vs `torchvision.io.decode_jpeg` (libjpeg-turbo, CPU) on these JPEGs: max pixel difference {dd['max_abs']}, "
                    f"mean {dd['mean_abs']:.3f} (of 255)."]
    return '\n'.join(out)

def search_section(d):
    out = [f"### `{d['command']}`", "",
           f"{d['n']:,} x {d['d']} fp16 rows, {d['nq']} queries, top-{d['k']}; {d['machine']}, {d['cores']} cores, {d['threads']} torch "
           f"threads, bf16 units: {'yes' if d['bf16_units'] else 'no'}, device {d['device']}; {d['date']}, load average {d['load']}; "
           f"peak RSS {d['peak_rss_gib']} GiB; the bf16 copy of the rows took {d['bf16_copy_s']} s (once per index).", "",
           "| exact method | wall s | CPU s | x fp32 (wall) | x fp32 (CPU) | recall vs fp32 | ids differing | max score difference |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    c0 = d['rows'][0]['cpu_s']
    for r in d['rows']:
        out.append(f"| {r['method']} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['x_fp32']:.1f} | {c0 / r['cpu_s']:.1f} | {r['recall']:.4f} | "
                   f"{r['ids_differing']} | {r['max_score_diff']:.1e} |")
    out += ["", "'ids differing' counts positions of the (queries x k) result whose id differs from the fp32 search; with recall "
                "1.0 the sets are the same, and a score at each position equal to the fp32 one within 'max score difference' "
                "means such positions hold neighbours whose fp32 scores differ by less than twice that (near-ties, ordered "
                "differently by the float32 rounding of two summation orders)."]
    return '\n'.join(out)

def render():
    parts = ["## Precision per device: bf16 on CPUs with bf16 units (`benchmarks/extract.py`, `benchmarks/search.py`)", "",
             "Rendered by `benchmarks/render_results.py` from `benchmarks/results/*.json`."]
    for p in sorted((HERE/'results').glob('extract_*.json')): parts += ["", extract_section(json.loads(p.read_text()))]
    for p in sorted((HERE/'results').glob('search_*.json')): parts += ["", search_section(json.loads(p.read_text()))]
    return '\n'.join(parts)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__); ap.add_argument('--write', action='store_true')
    a = ap.parse_args(argv); md = render()
    if not a.write: print(md); return 0
    path = HERE/'RESULTS.md'; text = path.read_text(); block = f"{BEGIN}\n{md}\n{END}"
    if BEGIN in text: text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else: text = text.rstrip('\n') + '\n\n' + block + '\n'
    path.write_text(text); print('updated', path); return 0

if __name__ == '__main__': sys.exit(main())
