"""XML and data-file checks that pylint-odoo 9+ no longer carries (OCA moved them
to its pre-commit hooks): well-formed XML, duplicate record ids, references to
ids of modules the manifest does not depend on, and data files listed in the
manifest that exist (and data files that no manifest lists)."""
import ast
import csv
import os
import pathlib
import sys

try:
    from lxml import etree
except ImportError:  # the pure-suite venv has no lxml; line numbers are then unknown
    from xml.etree import ElementTree as etree

import odoo_closure  # tools/odoo_closure.py, beside this script

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODULE = "amazon_fbm_connector"


def allowed_modules(problems):
    """The modules whose XML ids the data may use: the checked-in closure of the
    manifest's depends (tools/odoo_depends_closure.txt), checked against the manifest
    and, when ODOO_PATH holds an Odoo tree, against that tree's dependency graph."""
    problems.extend(odoo_closure.check(os.environ.get("ODOO_PATH", "")))
    return odoo_closure.read_list()[1] or set()


def main():
    manifest = ast.literal_eval((ROOT / "__manifest__.py").read_text())
    listed = manifest.get("data", []) + manifest.get("demo", [])
    problems, ids = [], {}
    allowed = allowed_modules(problems) | {MODULE}
    for name in listed:
        if not (ROOT / name).exists():
            problems.append("__manifest__.py: data file %s does not exist" % name)
    for path in sorted(ROOT.glob("*/*.xml")) + sorted(ROOT.glob("*/*/*.xml")):
        rel = str(path.relative_to(ROOT))
        if rel.startswith(("tests/fixtures", "static/", ".venv")):
            continue
        if rel.split("/")[0] in ("data", "views", "security", "wizards", "report") and rel not in listed:
            problems.append("%s: not listed in the manifest" % rel)
        try:
            tree = etree.parse(str(path))
        except getattr(etree, "XMLSyntaxError", getattr(etree, "ParseError", ValueError)) as exc:
            problems.append("%s: invalid XML: %s" % (rel, exc))
            continue
        for node in [n for tag in ("record", "template", "menuitem") for n in tree.iter(tag)]:
            xml_id = node.get("id")
            if not xml_id:
                continue
            if xml_id.startswith(MODULE + "."):
                problems.append("%s:%s: redundant module name in id %s" % (rel, getattr(node, 'sourceline', '?'), xml_id))
            if "." not in xml_id:
                key = xml_id
                if key in ids:
                    problems.append("%s:%s: duplicate xml id %s (first in %s)" % (rel, getattr(node, 'sourceline', '?'), key, ids[key]))
                ids[key] = rel
        for node in tree.iter():
            for attr in ("ref", "parent", "action", "inherit_id", "groups"):
                for value in (node.get(attr) or "").split(","):
                    value = value.strip().lstrip("!")
                    if "." in value and " " not in value and "(" not in value:
                        module = value.split(".", 1)[0]
                        if module not in allowed:
                            problems.append("%s:%s: %s refers to %s, a module the manifest does not depend on"
                                            % (rel, getattr(node, 'sourceline', '?'), attr, value))
    for path in sorted(ROOT.glob("security/*.csv")):
        with path.open() as fh:
            seen = set()
            for row in csv.DictReader(fh):
                if row["id"] in seen:
                    problems.append("%s: duplicate id %s" % (path.name, row["id"]))
                seen.add(row["id"])
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
