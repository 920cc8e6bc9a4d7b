"""Where code lives: rules a newcomer can rely on, checked so that they stay true."""

import ast
from pathlib import Path

import pytest

from bankwatch import jobs

ROOT = Path(__file__).resolve().parent.parent
APPS = [*sorted(p.parent.name for p in ROOT.glob("*/apps.py")), "bankwatch"]


def _modules() -> list[Path]:
    return [
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and path.name != "tasks.py"
    ]


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_imports_a_task_module_tasks_are_queued_by_name():
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in _imported(path) if name.split(".")[-1] == "tasks")
        for path in _modules()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_every_task_queued_by_name_is_registered():
    for name in (
        "alerts.process_frame",
        "alerts.sweep_frames",
        "enrollment.enroll_photo",
        "enrollment.import_subjects",
        "retention.run",
        "recognition.warm_up",
    ):
        assert jobs.task(name).name == name


def test_queueing_an_unknown_task_fails_in_the_caller():
    with pytest.raises(KeyError):
        jobs.enqueue("alerts.no_such_task", 1)


def test_the_enrollment_and_import_jobs_have_time_limits_like_the_frame_job():
    for name in ("alerts.process_frame", "enrollment.enroll_photo", "enrollment.import_subjects"):
        job = jobs.task(name)
        assert job.soft_time_limit and job.time_limit and job.soft_time_limit < job.time_limit


def test_every_gallery_index_setting_has_its_module_behind_the_one_interface():
    import importlib

    from enrollment.gallery.index import KINDS

    settings_module = (ROOT / "bankwatch" / "settings.py").read_text()
    assert '("exact", "sketch", "usearch")' in settings_module and set(KINDS) == {"exact", "sketch", "usearch"}
    for module in KINDS.values():
        assert callable(importlib.import_module(f"enrollment.gallery.{module}").index)


def test_every_sface_runtime_is_one_module_behind_the_one_interface():
    from recognition import runtimes

    for name in runtimes.RUNTIMES:
        assert isinstance(runtimes.available(name), bool)
    assert runtimes.available("onnxruntime")


def test_one_feed_client_one_language_switcher_and_one_javascript_dialect():
    import re

    scripts = {path.name: path.read_text() for path in (ROOT / "static" / "js").glob("*.js")}
    assert [name for name, text in scripts.items() if "new WebSocket" in text] == ["feed.js"]
    modern = re.compile(r"\b(const|let|async|await|class)\s|=>")
    assert [name for name, text in scripts.items() if modern.search(text)] == []
    templates = {str(p.relative_to(ROOT)): p.read_text() for p in (ROOT / "templates").rglob("*.html")}
    switchers = [name for name, text in templates.items() if 'name="language"' in text]
    assert switchers == ["templates/includes/language_switcher.html"]


def test_production_requirements_hold_no_test_tool_and_both_files_are_pinned():
    def pins(name: str) -> dict[str, str]:
        lines = [line.strip() for line in (ROOT / name).read_text().splitlines()]
        wanted = [line for line in lines if line and not line.startswith(("#", "-r"))]
        assert all("==" in line for line in wanted), name
        return dict(line.split("==", 1) for line in wanted)

    production, development = pins("requirements.txt"), pins("requirements-dev.txt")
    tools = {"pytest", "pytest-django", "playwright", "hypothesis", "schemathesis", "ruff", "mypy", "django-stubs"}
    assert tools <= set(development) and not tools & set(production)
