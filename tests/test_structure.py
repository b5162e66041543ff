"""The module graph of soi: no cycles, and every module imports only EARLIER modules (by notebook file name).

Run as a script to print the graph: `python tests/test_structure.py [ROOT]` lists, for each soi module (in notebook
order), the soi modules it imports at top level and inside functions.
"""
from __future__ import annotations
import ast, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Function-level imports of soi modules that are allowed (importer, imported): each needs a reason.
# (The CLI dispatches through importlib, not an import statement, so it needs no entry here.)
HIDDEN_OK = {
}

def soi_imports(src:str, # the text of one soi/*.py file
                ) -> list:
    "`(imported_module, line, top_level)` for every import of a soi module in `src` (relative or absolute)."
    out, tree = [], ast.parse(src)
    top = {id(n) for n in tree.body}
    for n in tree.body:                      # imports under a module-level `if`/`try` count as top level
        if isinstance(n, (ast.If, ast.Try)): top |= {id(m) for m in ast.walk(n) if isinstance(m, (ast.Import, ast.ImportFrom))}
    for n in ast.walk(tree):
        if isinstance(n, ast.Import): mods = [a.name for a in n.names if a.name == 'soi' or a.name.startswith('soi.')]
        elif isinstance(n, ast.ImportFrom):
            base = ('soi.' if n.level else '') + (n.module or '') if n.level <= 1 else None
            if base is None: continue
            if n.level and not n.module: base = 'soi'
            if base == 'soi': mods = ['soi.' + a.name for a in n.names]   # from . import x / from soi import x
            elif base.startswith('soi.'): mods = [base]
            else: mods = []
        else: continue
        out += [(m.split('.')[1], n.lineno, id(n) in top) for m in mods if m.count('.') >= 1]
    return sorted(out, key=lambda t: t[1])

def module_graph(root:Path=ROOT, # repository root holding soi/ and nbs/
                 ) -> dict:
    "`{module: [(imported, line, top_level), ...]}` for every soi/*.py (private `_modidx` and `__init__` left out)."
    mods = {p.stem: p for p in sorted((Path(root)/'soi').glob('*.py')) if not p.stem.startswith('_')}
    return {m: [t for t in soi_imports(p.read_text()) if t[0] in mods and t[0] != m] for m, p in mods.items()}

def notebook_of(root:Path=ROOT, # repository root
                ) -> dict:
    "`{module: notebook file name}` from each notebook's `#| default_exp`."
    out = {}
    for nb in sorted((Path(root)/'nbs').glob('*.ipynb')):
        m = re.search(r'#\|\s*default_exp\s+([\w.]+)', nb.read_text())
        if m: out[m.group(1)] = nb.name
    return out

def find_cycle(edges:dict, # {node: iterable of nodes it depends on}
               ) -> list|None:
    "One dependency cycle as a list `[a, b, ..., a]`, or None."
    state, stack = {}, []
    def visit(u):
        state[u] = 1; stack.append(u)
        for v in sorted(set(edges.get(u, ()))):
            if state.get(v) == 1: return stack[stack.index(v):] + [v]
            if v not in state and (c := visit(v)): return c
        state[u] = 2; stack.pop()
    for u in sorted(edges):
        if u not in state and (c := visit(u)): return c
    return None

def order_violations(order:dict, # {module: sort key} (the notebook file name)
                     graph:dict, # {module: [(imported, line, top_level), ...]}
                    ) -> list:
    "Messages for each import of a module that comes later (or at the same place) in `order`."
    return [f"soi.{m} ({order[m]}) imports soi.{d} ({order[d]}) at line {ln}, but {order[d]} comes after {order[m]}"
            for m, deps in sorted(graph.items()) for d, ln, _ in deps if m in order and d in order and order[d] >= order[m]]

def hidden_imports(graph:dict, # {module: [(imported, line, top_level), ...]}
                   allowed:dict=HIDDEN_OK, # {(importer, imported): reason}
                  ) -> list:
    "Messages for each soi import inside a function that `allowed` does not list."
    return [f"soi.{m} imports soi.{d} inside a function at line {ln}; move it to the top of the module"
            for m, deps in sorted(graph.items()) for d, ln, top in deps if not top and (m, d) not in allowed]

def listing(root:Path=ROOT) -> str:
    "The module graph as text, one module a line, in notebook order."
    g, nb = module_graph(root), notebook_of(root)
    lines = []
    for m in sorted(g, key=lambda m: nb.get(m, '~' + m)):
        top = sorted({d for d, _, t in g[m] if t}, key=lambda d: nb.get(d, d))
        fn = sorted({d for d, _, t in g[m] if not t} - set(top), key=lambda d: nb.get(d, d))
        lines.append(f"{nb.get(m, '?'):<26} {m:<13} top: {', '.join(top) or '-'}" + (f"   | in functions: {', '.join(fn)}" if fn else ''))
    return '\n'.join(lines) + '\n'

# ---- the checker on synthetic graphs: it can fail ----
def test_checker_finds_cycle_and_later_import():
    g = {'a': [], 'b': [('a', 1, True)], 'c': [('b', 3, False)]}
    assert find_cycle({m: [d for d, *_ in v] for m, v in g.items()}) is None
    assert order_violations({'a': '01_a', 'b': '02_b', 'c': '03_c'}, g) == []
    g['a'] = [('c', 7, False)]                                       # a -> c -> b -> a, and a imports the later c
    assert find_cycle({m: [d for d, *_ in v] for m, v in g.items()}) == ['a', 'c', 'b', 'a']
    assert order_violations({'a': '01_a', 'b': '02_b', 'c': '03_c'}, g) == [
        "soi.a (01_a) imports soi.c (03_c) at line 7, but 03_c comes after 01_a"]
    assert hidden_imports(g, {}) == ["soi.a imports soi.c inside a function at line 7; move it to the top of the module",
                                      "soi.c imports soi.b inside a function at line 3; move it to the top of the module"]
    assert hidden_imports(g, {('a', 'c'): 'why', ('c', 'b'): 'why'}) == []

def test_soi_imports_parses_every_form():
    src = ("from .core import x\nimport soi.data\nfrom soi.toy import y\nfrom . import pooling\nimport os\n"
           "try: from .store import z\nexcept ImportError: pass\ndef f():\n    from soi.model import m\n")
    assert soi_imports(src) == [('core', 1, True), ('data', 2, True), ('toy', 3, True), ('pooling', 4, True),
                                ('store', 6, True), ('model', 9, False)]

# ---- the real tree ----
def test_every_module_has_a_notebook():
    nb = notebook_of()
    missing = sorted(set(module_graph()) - set(nb))
    assert not missing, f"modules without a notebook (#| default_exp): {missing}"

def test_no_import_cycle():
    g = module_graph()
    c = find_cycle({m: [d for d, *_ in v] for m, v in g.items()})
    assert c is None, "import cycle (top-level and function-level imports): " + ' -> '.join(f'soi.{m}' for m in c)

def test_modules_import_only_earlier_modules():
    v = order_violations(notebook_of(), module_graph())
    assert not v, "a module imports a later one (renumber the notebooks or move the code):\n" + '\n'.join(v)

def test_no_hidden_soi_imports():
    v = hidden_imports(module_graph())
    assert not v, "soi imports inside functions hide the graph (or list the exception in HIDDEN_OK):\n" + '\n'.join(v)

def test_cli_table_resolves():
    "Every CLI command names a soi module that exists and defines `cli_<command>` (no entry silently hidden)."
    src = (ROOT/'soi'/'cli.py').read_text()
    table = next(n.value for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Assign)
                 and any(getattr(t, 'id', None) == 'COMMANDS' for t in n.targets))
    cmds = {k.value: v.elts[0].value for k, v in zip(table.keys, table.values)}
    assert len(cmds) > 5
    for cmd, mod in cmds.items():
        f = ROOT/'soi'/(mod.split('.', 1)[1] + '.py')
        assert mod.startswith('soi.') and f.is_file(), f"soi {cmd}: module {mod} does not exist ({f})"
        fn = 'cli_' + cmd.replace('-', '_')
        defs = {n.name for n in ast.parse(f.read_text()).body if isinstance(n, ast.FunctionDef)}
        assert fn in defs, f"soi {cmd}: {mod} defines no {fn}"

if __name__ == '__main__':
    print(listing(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT), end='')

# ---- tools/renumber.py: its mapping puts the current graph in order, and its rewrite is one-pass ----
def _renumber():
    import importlib.util
    spec = importlib.util.spec_from_file_location('renumber', ROOT/'tools'/'renumber.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m

def test_renumber_mapping_orders_the_graph():
    "After the renaming that tools/renumber.py would do (a no-op once done), no module imports a later one."
    rn, nb = _renumber(), notebook_of()
    renamed = {m: rn.MAPPING.get(f[:-len('.ipynb')], f[:-len('.ipynb')]) for m, f in nb.items()}
    v = order_violations(renamed, module_graph())
    assert not v, "tools/renumber.py's mapping leaves imports of later modules:\n" + '\n'.join(v)

def test_renumber_rewrite_is_one_pass_and_idempotent():
    rn, u = _renumber(), lambda s: s.replace('~', '')   # '~' keeps renumber.py from rewriting these examples
    s = u("see [02~_data](nbs/02~_data.ipynb), 03~_download, 05~_toy and 05a~_toy_render, not 102~_data or 02~_data_x\\n14~_train")
    t, n = rn.rewrite(s)
    assert t == u("see [03~_data](nbs/03~_data.ipynb), 02~_download, 06~_toy and 05~_toy_render, not 102~_data or "
                  "02~_data_x\\n16~_train"), t
    assert n == 6 and rn.rewrite(t) == (t, 0)
