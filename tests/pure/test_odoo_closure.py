"""tools/odoo_closure.py: the checked-in closure of the manifest's depends that
tools/lint_xml.py checks XML ids against, on a clone with or without Odoo."""
import os
import subprocess
import sys

from tools import odoo_closure

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _tree(tmp_path, modules):
    """A minimal Odoo tree: odoo/addons/base and addons/<name>/__manifest__.py."""
    for name, depends in modules.items():
        where = tmp_path / ("odoo/addons" if name == "base" else "addons") / name
        where.mkdir(parents=True)
        (where / "__manifest__.py").write_text(repr({"name": name, "depends": depends}))
    return str(tmp_path)


def test_checked_in_list_matches_the_manifest_without_odoo():
    depends, modules = odoo_closure.read_list()
    assert depends == odoo_closure.manifest_depends()
    assert set(depends) <= modules
    # the modules this addon's data refers to through its dependencies
    assert {"base", "web", "mail", "sale", "stock", "account", "product"} <= modules
    assert "website" not in modules
    assert odoo_closure.check("") == []
    assert odoo_closure.check("/nonexistent") == []


def test_closure_follows_depends_transitively(tmp_path):
    odoo = _tree(tmp_path, {"base": [], "web": ["base"], "mail": ["web"], "sale": ["mail"],
                            "website": ["web"], "lonely": []})
    modules, missing = odoo_closure.closure(odoo, ["sale", "lonely"])
    assert modules == {"sale", "mail", "web", "base", "lonely"}
    assert missing == set()
    assert odoo_closure.closure(odoo, ["sale", "ghost"])[1] == {"ghost"}


def test_stale_list_is_reported(tmp_path, monkeypatch):
    odoo = _tree(tmp_path / "odoo", {"base": [], "web": ["base"], "mail": ["web"], "sale": ["mail"]})
    listed = tmp_path / "list.txt"
    monkeypatch.setattr(odoo_closure, "LIST", listed)
    monkeypatch.setattr(odoo_closure, "ROOT", tmp_path)
    monkeypatch.setattr(odoo_closure, "manifest_depends", lambda: ["sale"])
    listed.write_text(odoo_closure.render(["sale"], {"sale", "mail", "web", "base"}))
    assert odoo_closure.check(odoo) == []
    # the tree's graph changed (or the list was edited by hand): found when a tree is present
    listed.write_text(odoo_closure.render(["sale"], {"sale", "mail", "base"}))
    problems = odoo_closure.check(odoo)
    assert len(problems) == 1 and "only in the tree: web" in problems[0]
    assert odoo_closure.check("") == []
    # the manifest's depends changed: found with or without a tree
    monkeypatch.setattr(odoo_closure, "manifest_depends", lambda: ["mail", "sale"])
    assert any("was made for depends" in p for p in odoo_closure.check(""))
    listed.unlink()
    assert "missing" in odoo_closure.check("")[0]


def test_lint_xml_passes_without_odoo():
    env = dict(os.environ, ODOO_PATH="/nonexistent")
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "lint_xml.py")],
                            env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
