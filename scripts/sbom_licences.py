"""Print a Markdown table (name, version, licence) of the runtime components in a CycloneDX JSON SBOM.

Only the run-time dependency closure of the installed `aktenlotse` distribution is listed (from the installed
package metadata, without extras), not test or build tools that happen to be in the same environment.
"""

from __future__ import annotations

import json
import sys


def licence_of(component: dict) -> str:
    names = []
    for entry in component.get("licenses", []):
        if "expression" in entry:
            names.append(entry["expression"])
        lic = entry.get("license", {})
        names.append(lic.get("id") or lic.get("name") or "")
    names = [n for n in names if n]
    return "; ".join(dict.fromkeys(names)) or "unbekannt"


def runtime_closure(root: str = "aktenlotse") -> set[str]:
    """Normalised names of `root`'s run-time dependencies (no extras), transitively, from the installed metadata."""
    import re
    from importlib import metadata

    from packaging.requirements import Requirement

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        if norm(name) in seen:
            continue
        seen.add(norm(name))
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue  # extras (test, dev) and other platforms
            todo.append(req.name)
    seen.discard(norm(root))
    return seen


def main(path: str) -> None:
    import re

    bom = json.loads(open(path, encoding="utf-8").read())
    wanted = runtime_closure()
    rows = sorted((c for c in bom.get("components", [])
                   if re.sub(r"[-_.]+", "-", c["name"]).lower() in wanted), key=lambda c: c["name"].lower())
    print("| Paket | Version | Lizenz |")
    print("|---|---|---|")
    for c in rows:
        print(f"| {c['name']} | {c.get('version', '')} | {licence_of(c)} |")
    print(f"\n{len(rows)} Pakete (Laufzeit-Abhängigkeiten von Aktenlotse, ohne Test- und Bauwerkzeuge).")


if __name__ == "__main__":
    main(sys.argv[1])
