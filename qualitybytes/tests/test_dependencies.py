"""Dependencies run one way: privacy → billing → teams → licensing → accounts → qualitybytes.

A module may import its own app and any app below it. The one exception is a lower app's
`models` reading `billing.models`: the Plan catalogue lives in billing and every License points
at its plan (DESIGN.md: "a lower app never imports a higher one's services"). No app imports
another app inside a function (a hidden dependency), and no app imports the Stripe simulator,
a development tool. Tests, migrations and the URL root (which composes every app) are exempt.
"""

import ast
from pathlib import Path

from django.conf import settings

RANK = {"qualitybytes": 0, "accounts": 1, "licensing": 2, "teams": 3, "billing": 4, "privacy": 5}
ROOT = Path(settings.BASE_DIR)
EXEMPT = {"qualitybytes/urls.py", "qualitybytes/settings.py"}


def modules():
    for app in RANK:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/tests/" in relative or "/migrations/" in relative or relative in EXEMPT:
                continue
            yield app, relative, ast.parse(path.read_text(), filename=relative)


def imported(node) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module]
    return []


def problems() -> list[str]:
    found = []
    for app, relative, tree in modules():
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            for name in imported(node):
                target = name.split(".")[0]
                if target == "stripe_simulator":
                    found.append(f"{relative}:{node.lineno} imports the Stripe simulator ({name})")
                if target not in RANK or target == app:
                    continue
                if id(node) not in top_level:
                    found.append(f"{relative}:{node.lineno} imports {name} inside a function")
                if RANK[target] > RANK[app] and name != "billing.models":
                    found.append(f"{relative}:{node.lineno} imports {name}, an app above {app}")
    return found


def test_dependencies_run_one_way():
    assert problems() == []
