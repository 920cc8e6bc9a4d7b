"""The audit log page: for auditors only, read-only, filterable."""

import pytest
from django.test import Client

from audit.log import record
from audit.models import AuditEntry


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def entries(cast):
    record("alert.viewed", cast["alice"], actor=cast["alice"])
    record("alert.confirm", cast["bob"], actor=cast["bob"])
    record("case.evidence_exported", None, actor=cast["paula"], manifest_sha256="ab" * 32)


def _rows(client: Client, **params: str) -> str:
    page = client.get("/audit/", params).content.decode()
    return page[page.index("<tbody>") : page.index("</tbody>")]


def test_an_auditor_reads_the_log_with_filters(cast, entries):
    auditor = _client(cast["audrey"])
    rows = _rows(auditor)
    assert "alert.viewed" in rows and "alert.confirm" in rows and "case.evidence_exported" in rows
    by_actor = _rows(auditor, actor="bob")
    assert "alert.confirm" in by_actor and "alert.viewed" not in by_actor
    by_action = _rows(auditor, action="case.")
    assert "case.evidence_exported" in by_action and "alert.confirm" not in by_action
    assert "alert.confirm" not in _rows(auditor, since="2999-01-01")


@pytest.mark.parametrize("who", ["alice", "charlie", "paula", "carol"])
def test_other_roles_are_refused(cast, who):
    assert _client(cast[who]).get("/audit/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in():
    response = Client().get("/audit/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_page_changes_nothing(cast, entries):
    before = AuditEntry.objects.count()
    response = _client(cast["audrey"]).post("/audit/", {"action": "x"})
    assert response.status_code == 405
    assert AuditEntry.objects.count() == before
    entry = AuditEntry.objects.first()
    assert entry is not None
    with pytest.raises(PermissionError):
        entry.delete()


def test_the_log_pages_by_position_newest_first_and_back_without_counting_it(cast, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audit import views

    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    for n in range(7):
        record("alert.viewed", None, actor=cast["bob"], n=n)
    auditor = _client(cast["audrey"])
    with CaptureQueriesContext(connection) as queries:
        first = auditor.get("/audit/", {"action": "alert.viewed"})
    assert not any("COUNT(" in q["sql"].upper() or "DISTINCT" in q["sql"].upper() for q in queries.captured_queries)
    newest = [entry.detail["n"] for entry in first.context["page"]]
    assert newest == [6, 5, 4] and first.context["newer"] is None
    second = auditor.get("/audit/", {"action": "alert.viewed", "before": first.context["older"]})
    assert [entry.detail["n"] for entry in second.context["page"]] == [3, 2, 1]
    last = auditor.get("/audit/", {"action": "alert.viewed", "before": second.context["older"]})
    assert [entry.detail["n"] for entry in last.context["page"]] == [0] and last.context["older"] is None
    back = auditor.get("/audit/", {"action": "alert.viewed", "after": last.context["newer"]})
    assert [entry.detail["n"] for entry in back.context["page"]] == [3, 2, 1]
    assert f"after={back.context['newer']}" in back.content.decode()
