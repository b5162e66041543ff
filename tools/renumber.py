"""Renumber the notebooks into dependency order: a module's notebook comes after the notebooks of every soi module
it imports (checked by tests/test_structure.py).

    python tools/renumber.py --dry-run   # print the plan: renames, and the files whose references change
    python tools/renumber.py             # `git mv` each notebook, rewrite every reference to the old names

Idempotent: a second run finds nothing to rename or rewrite. Afterwards run `.venv/bin/nbdev-export` (soi/*.py name
their notebook) and `python tests/test_structure.py` (prints the module graph in the new order).

The order is computed from the module graph after issue 9 (top-level and function-level imports; train and demo
import what they use at top level, rerank imports spatial, soi.testing imports only core and config):

    config; core; report (config, core); testing (config, core); download (config, core);
    data (config, core, download); data_custom (data); evaluate (data_custom); toy_render; toy (toy_render, data);
    pooling; attention; model (pooling, attention); model_import (model); store (core); whitening (data, store);
    extract (store, model, data_custom); index (extract, store); losses; mining (data, extract);
    train (... mining, losses, index, evaluate); train_loop (train); pretrain; spatial (data); rerank (index, spatial);
    engine (rerank, whitening, model, ...); app (engine); workflow (report); doctor; cli; demo (everything)

It is a stable topological sort of the old order (each step takes the earliest-numbered notebook whose
dependencies are placed), numbered with integers; a letter suffix marks only a genuine later addition to the
notebook before it (report and testing after core, data_custom after data, model_import after model, train_loop
and pretrain after train). Notebooks that do not move (00_config, 01_core, 01a_report, 01b_testing, 04_evaluate,
85_doctor, 90_cli, 95_demo, index) are not listed.
"""
from __future__ import annotations
import argparse, re, subprocess, sys
from pathlib import Path

MAPPING = {  # old notebook name -> new notebook name (without .ipynb)
    '03_download': '02_download',           # data imports the DATASETS catalogue
    '02_data': '03_data',
    '02a_data_custom': '03a_data_custom',   # holds open_dataset, above data
    '05a_toy_render': '05_toy_render',      # toy imports toy_render
    '05_toy': '06_toy',
    '06_pooling': '07_pooling',
    '07_attention': '08_attention',
    '08_model': '09_model',
    '08a_model_import': '09a_model_import',
    '10a_store': '10_store',                # whitening and extract import store
    '09_whitening': '11_whitening',
    '10_extract': '12_extract',
    '11_index': '13_index',
    '12_losses': '14_losses',
    '13_mining': '15_mining',
    '14_train': '16_train',
    '14a_train_loop': '16a_train_loop',
    '14b_pretrain': '16b_pretrain',
    '15a_spatial': '17_spatial',            # rerank imports spatial
    '15_rerank': '18_rerank',
    '16_engine': '19_engine',
    '17_app': '20_app',
    '18_workflow': '21_workflow',
}
assert not set(MAPPING) & set(MAPPING.values()), "a new name equal to an old one would make the rewrite non-idempotent"

ROOT = Path(__file__).resolve().parents[1]
# an old name not glued to a longer word ('\n' before it, as in JSON strings, counts as a boundary)
PATTERN = re.compile(r'(?:(?<=\\n)|(?<![A-Za-z0-9_]))(' + '|'.join(sorted(map(re.escape, MAPPING), key=len, reverse=True))
                     + r')(?![A-Za-z0-9_])')

def rewrite(text:str, # a file's text
           ) -> tuple:
    "`(new_text, n_replacements)`: every old notebook name replaced by its new name, in one pass (no chains)."
    return PATTERN.subn(lambda m: MAPPING[m.group(1)], text)

def tracked_files(root:Path) -> list:
    out = subprocess.run(['git', 'ls-files', '-z'], cwd=root, capture_output=True, check=True).stdout.decode()
    return [root/f for f in out.split('\0') if f]

def plan(root:Path=ROOT) -> tuple:
    "`(renames, edits)`: [(old path, new path)] still to do, and [(file, n_replacements)] still to rewrite."
    nbs = root/'nbs'
    renames = [(nbs/f'{o}.ipynb', nbs/f'{n}.ipynb') for o, n in MAPPING.items() if (nbs/f'{o}.ipynb').exists()]
    clash = [str(n) for o, n in renames if n.exists()]
    if clash: sys.exit(f"renumber: both the old and the new notebook exist: {clash}; resolve by hand")
    edits, me = [], Path(__file__).resolve()
    for f in tracked_files(root):
        if f.resolve() == me or not f.is_file() or f.is_symlink(): continue
        try: text = f.read_text(encoding='utf-8')
        except (UnicodeDecodeError, OSError): continue
        n = rewrite(text)[1]
        if n: edits.append((f, n))
    return renames, edits

def unknown_notebooks(root:Path=ROOT) -> list:
    "Numbered notebooks the mapping does not know (neither an old nor a new name, nor a fixed one)."
    fixed = {'00_config', '01_core', '01a_report', '01b_testing', '04_evaluate', '85_doctor', '90_cli', '95_demo'}
    known = fixed | set(MAPPING) | set(MAPPING.values())
    return sorted(p.stem for p in (root/'nbs').glob('[0-9]*.ipynb') if p.stem not in known)

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--dry-run', action='store_true', help='print the plan, change nothing')
    ap.add_argument('--root', type=Path, default=ROOT, help='repository root (default: this tool\'s repository)')
    a = ap.parse_args(argv)
    root = a.root.resolve()
    renames, edits = plan(root)
    for o, n in renames: print(f"git mv {o.relative_to(root)} {n.relative_to(root)}")
    for f, k in edits: print(f"rewrite {f.relative_to(root)}: {k} reference(s)")
    for s in unknown_notebooks(root): print(f"warning: nbs/{s}.ipynb is not in the mapping; place it by hand", file=sys.stderr)
    if not renames and not edits: print("nothing to do: the notebooks are already renumbered"); return 0
    if a.dry_run: return 0
    for o, n in renames:
        r = subprocess.run(['git', 'mv', str(o), str(n)], cwd=root, capture_output=True, text=True)
        if r.returncode: o.rename(n)                      # an untracked notebook: a plain rename
    moved = dict(renames)
    for f, _ in edits:
        f = moved.get(f, f)
        f.write_text(rewrite(f.read_text(encoding='utf-8'))[0], encoding='utf-8')
    print(f"renamed {len(renames)} notebooks, rewrote {len(edits)} files; now run .venv/bin/nbdev-export and "
          f"python tests/test_structure.py")
    return 0

if __name__ == '__main__': sys.exit(main())
