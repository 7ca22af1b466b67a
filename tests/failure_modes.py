"""docs/failure-modes.md names, for each failure mode, the one test that proves it: every name it gives must be a
test that exists. Checks each `<tier> `name`` pair (Rust: `fn name(` where the tier letter says; Python: `def
name(` in the Python tiers) and that no bare test name sits in a table's test column without its tier letter.
Prints only what does not resolve, and a summary; exits 1 if anything does not.

    python3 tests/failure_modes.py
"""
import os
import re
import subprocess
import sys

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
doc = open('docs/failure-modes.md').read()
RUST = {'U', 'R', 'A', 'P', 'L', 'LZ', 'PT'}
PY = {'F'}
PYFILES = ['tests/faults.py', 'tests/redelivery.py', 'tests/test_logzio_fake.py']

def rust(name, letter):
    where = {'R': ['src/role'], 'A': ['src/archive'], 'U': ['src'], 'P': ['tests/it/protocol'],
             'L': ['tests/it/lifecycle'], 'LZ': ['tests/it/logzio.rs'], 'PT': ['tests/it/proptests.rs']}[letter]
    r = subprocess.run(['grep', '-rlE', rf'fn {name}\(', *where], capture_output=True, text=True)
    return r.stdout.split()

def py(name):
    r = subprocess.run(['grep', '-lE', rf'def {name}\(', *PYFILES], capture_output=True, text=True)
    return r.stdout.split()

pairs = re.findall(r'\b(LZ|PT|U|R|A|P|L|F) `([A-Za-z_][A-Za-z0-9_]*)`', doc)
# every backticked identifier in the last column of every table row
test_col = []
for line in doc.splitlines():
    if line.startswith('|') and not line.startswith('|---'):
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        last = cells[-1]
        if last in ('test',):
            continue
        test_col += re.findall(r'`([^`]+)`', last)
bad = []
checked = set()
for letter, name in pairs:
    found = py(name) if letter in PY else rust(name, letter)
    checked.add(name)
    if not found:
        print(f"not found: {letter} `{name}`")
        bad.append((letter, name))
# identifiers in the test column not preceded by a tier letter
loose = [n for n in test_col if n not in checked]
for n in loose:
    if re.fullmatch(r'[a-z_0-9]+', n):
        print(f"a test name without its tier letter: `{n}`")
print(f"failure-modes.md: {len(pairs)} tier-named references ({len(set(pairs))} distinct), {len(bad)} unresolved; "
      f"{len(loose)} other backticked words in test columns (property names, messages)")
sys.exit(1 if bad or any(re.fullmatch(r'[a-z_0-9]+', n) for n in loose) else 0)
