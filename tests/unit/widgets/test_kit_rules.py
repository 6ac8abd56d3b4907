"""The kit's rules, read from the code: one widget list, one message protocol, imports that only go one way."""

import ast
import re
from pathlib import Path

import pytest
from flask import Flask, Response

from bff.sessions import WIDGETS
from widgets import register_start
from widgets.outcome import announce

ROOT = Path(__file__).parents[3]
KIT = ROOT / "widgets"
WIDGET_PACKAGES = sorted(path.name for path in KIT.iterdir() if (path / "__init__.py").exists())
# DESIGN.md, "postMessage envelope": the widget → host types, "biometric_requested" from its biometric paragraph
# and "authorization_decided" from the pre-authorization outcome's.
# "hello" is the handshake embed.js answers with the token, below the documented protocol.
DESIGN_TYPES = {"ready", "resize", "step", "success", "exit", "error", "session_expired", "biometric_requested",
                "authorization_decided"}
# The host → widget types: the handshake's token, a renewed one, and the host reader's answer (DESIGN's "biometric").
HOST_TYPES = ["init", "token", "biometric"]


def test_the_widget_list_is_named_once_and_everywhere_alike():
    embed, types = (ROOT / "embed.js").read_text(), (ROOT / "embed.d.ts").read_text()
    assert re.findall(r'"(\w+)"', re.search(r"var WIDGETS = \[([^\]]*)\]", embed).group(1)) == list(WIDGETS)
    assert re.findall(r'"(\w+)"', re.search(r"type OsiguWidgetName = ([^;]*);", types).group(1)) == list(WIDGETS)
    titles = re.search(r"var TITLES = \{(.*?)\n  \};", embed, re.S).group(1)
    assert re.findall(r"^\s+(\w+): \{", titles, re.M) == list(WIDGETS)
    assert set(WIDGET_PACKAGES) <= set(WIDGETS)


def test_widget_and_host_speak_the_message_types_design_names():
    sent = set(re.findall(r'post\("(\w+)"', (ROOT / "static" / "widget.js").read_text())) - {"hello"}
    embed = (ROOT / "embed.js").read_text()
    handlers = re.search(r"var handlers = \{(.*?)\n    \};", embed, re.S).group(1)
    heard = set(re.findall(r"^\s+(\w+): function", handlers, re.M)) - {"hello"}
    assert sent == heard == DESIGN_TYPES


def test_the_host_sends_only_the_types_it_names_and_the_widget_hears_each():
    embed, bridge = (ROOT / "embed.js").read_text(), (ROOT / "static" / "widget.js").read_text()
    named = re.findall(r'"(\w+)"', re.search(r"var HOST_TYPES = \[([^\]]*)\]", embed).group(1))
    sent = set(re.findall(r'send\("(\w+)"', embed)) | set(re.findall(r'withToken\("(\w+)"\)', embed))
    handlers = re.search(r"var hostHandlers = \{(.*?)\n  \};", bridge, re.S).group(1)
    heard = re.findall(r"^    (\w+): function", handlers, re.M)
    assert named == heard == HOST_TYPES
    assert sent == set(HOST_TYPES)


def imports(path):
    """(module imported, whether inside an init_* function) for every import in a file of widgets/."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    if path.name == "__init__.py":
        package = package.rsplit(".", 1)[0] + "." + "__init__"
    tree = ast.parse(path.read_text())
    composing = {id(node) for function in ast.walk(tree) if isinstance(function, ast.FunctionDef)
                 and function.name.startswith("init_") for node in ast.walk(function)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, id(node) in composing) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:-node.level] + ([base] if base else []))
            yield base, id(node) in composing
            yield from ((f"{base}.{alias.name}", id(node) in composing) for alias in node.names)


def widget_of(module):
    """The widget package a module name belongs to, or None for the kit and everything else."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "widgets" and parts[1] in WIDGET_PACKAGES else None


def test_the_kit_never_imports_a_widget_but_to_compose_them():
    for path in KIT.glob("*.py"):
        reached = [module for module, composing in imports(path) if widget_of(module) and not composing]
        assert reached == [], f"{path.name} imports {reached}"


@pytest.mark.parametrize("package", WIDGET_PACKAGES)
def test_a_widget_imports_the_kit_never_another_widget(package):
    for path in (KIT / package).glob("*.py"):
        others = {widget_of(module) for module, _ in imports(path)} - {None, package}
        assert others == set(), f"{package}/{path.name} imports {others}"


def test_no_import_cycle_among_the_widgets_modules():
    def name(path):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        return module.removesuffix(".__init__")

    files = list(KIT.rglob("*.py"))
    modules = {name(path) for path in files}
    graph = {name(path): {module if module in modules else module.rsplit(".", 1)[0]
                          for module, composing in imports(path) if not composing} & modules - {name(path)}
             for path in files}

    def visit(module, trail):
        assert module not in trail, f"import cycle: {' → '.join([*trail, module])}"
        for imported in graph.get(module, ()):
            visit(imported, [*trail, module])

    for module in graph:
        visit(module, [])


def test_announce_adds_an_event_and_keeps_the_others():
    response = Response(headers={"HX-Trigger": '{"osigu:error": {"problem": {"code": "x"}}}'})
    announce(response, "osigu:success", {"outcome": {"id": 1}})
    assert response.headers["HX-Trigger"] == ('{"osigu:error": {"problem": {"code": "x"}}, '
                                              '"osigu:success": {"outcome": {"id": 1}}}')
    plain = announce(Response(headers={"HX-Trigger": "refresh"}), "osigu:exit", {"reason": "cancelled"})
    assert plain.headers["HX-Trigger"] == '{"refresh": {}, "osigu:exit": {"reason": "cancelled"}}'


def test_a_widget_starts_at_one_endpoint_only():
    app = Flask(__name__)
    app.extensions["widgets.start"] = {}
    register_start(app, "dispensing", "dispensing.resume")
    with pytest.raises(ValueError, match="already starts at dispensing.resume"):
        register_start(app, "dispensing", "probe.start")
    assert app.extensions["widgets.start"] == {"dispensing": "dispensing.resume"}
