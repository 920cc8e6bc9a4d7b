"""The access matrix: every URL pattern of the project's own resolver, every socket route and the
media path, against every role, with the expected answer written down below.

It fails when a route has no entry in MATRIX (the message names it): a new route must say who
may use it. "Allowed" means the request got past the access checks (2xx, a redirect elsewhere
than a sign-in page, or a 400/405/409 about the request itself); "refused" means 401, 403, 404
or a redirect to a sign-in page. For list endpoints, allowed means the object is in the list and
refused that it is not. Objects are chosen so that scope matters: the alert is at Saigon Bank's
District 3 branch (bob only has District 1), charlie works for another bank, the police see
only escalated alerts of their jurisdiction.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import User
from alerts.actions import review_alert
from alerts.models import Alert
from audit.models import AuditEntry
from bankwatch.routing import websocket_urlpatterns
from cameras.actions import create_camera
from cameras.devices import cookie_name, issue_pairing_code
from cameras.models import Camera
from cases.actions import open_case
from cases.models import Case, CaseNote, LegalHold
from enrollment.models import FaceTemplate, ReferencePhoto
from integrations.actions import add_webhook, create_api_key
from integrations.models import WebhookDelivery
from privacy.actions import produce_report, record_breach, record_request
from privacy.models import Breach
from tests.factories import frames_queued, make_alert, make_sighting, make_subject, random_embedding

# Besides people: browsers paired with the world's camera (cameras/devices.py) as its entrance
# display and as its capture device, and a display paired with another camera. A device token opens
# only its own camera's device page of its kind; for everything else it is an anonymous visitor.
DEVICES = {"display": "display", "capture": "capture", "other_display": "display"}
# Integrators' API keys (integrations/apikeys.py), each scoped like the person it is named after:
# alice_key a bank security key of Saigon Bank, charlie_key of Mekong Bank, paula_key a police key of
# Ho Chi Minh City. A key opens the API and its schema only; for pages, sockets and media it is nobody.
KEYS: dict[str, dict[str, Any]] = {
    "alice_key": {"role": "bank_security", "bank_name": "Saigon Bank"},
    # A bank administrator's key (--admin): also registers and changes Saigon Bank's cameras.
    "admin_key": {"role": "bank_security", "bank_name": "Saigon Bank", "admin": True},
    "charlie_key": {"role": "bank_security", "bank_name": "Mekong Bank"},
    "paula_key": {"role": "police", "jurisdiction": "Ho Chi Minh City"},
}
ROLES = ["anonymous", "alice", "bob", "charlie", "paula", "carol", "audrey", "dora", *DEVICES, *KEYS]
USERS = frozenset(ROLES) - {"anonymous"} - frozenset(DEVICES) - frozenset(KEYS)
ANY = None  # public, or a sign-in/out step: only "no server error" is checked
SIGN_IN_PAGES = ("/login/", "/admin/login/", "/account/two-factor/")


@dataclass(frozen=True)
class Entry:
    allowed: frozenset[str] | None
    method: str = "GET"
    kwargs: Callable[[dict[str, Any]], dict[str, Any]] = lambda w: {}
    listed: Callable[[dict[str, Any]], int] | None = None  # a JSON list whose "results" must (not) hold this id
    body: Callable[[dict[str, Any], User | None], dict[str, Any]] = lambda w, user: {}  # a valid one


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


def alert_kwargs(w: dict[str, Any]) -> dict[str, Any]:
    return {"alert_id": w["alert"].pk}


def case_kwargs(w: dict[str, Any]) -> dict[str, Any]:
    return {"case_id": w["case"].pk}


def api_case_kwargs(w: dict[str, Any]) -> dict[str, Any]:
    return {"case_id": w["api_case"].pk}


def next_review(w: dict[str, Any], user: User | None) -> dict[str, Any]:
    """A review step that is valid for the alert as it is now."""
    alert = Alert.objects.get(pk=w["alert"].pk)
    action = {"new": "start_review", "in_review": "confirm"}.get(alert.status, "dismiss")
    return {"action": action, "reason": "other", "note": "checked by hand", "version": alert.version}


def closing(case_key: str) -> Callable[[dict[str, Any], User | None], dict[str, Any]]:
    return lambda w, user: {"outcome": "arrested", "version": Alert.objects.get(pk=w[case_key].alert_id).version}


def other_language(w: dict[str, Any], user: User | None) -> dict[str, Any]:
    return {"language": "vi" if user is not None and user.language == "en" else "en"}


def held_photo(w: dict[str, Any]) -> dict[str, Any]:
    """The world's photo, held as the same face as another subject's, so that a decision on it is valid."""
    ReferencePhoto.objects.filter(pk=w["photo"].pk).update(status=ReferencePhoto.Status.HELD)
    return {"pk": w["photo"].pk}


NOTE = lambda w, user: {"text": "seen again at noon"}  # noqa: E731


MATRIX: dict[str, Entry] = {
    "": Entry(ANY),
    "healthz": Entry(ANY),
    "pair/": Entry(ANY),  # a device's sign-in step: trades a one-time code for its token
    # The capture page: only a browser paired with this camera as its capture device.
    "camera/<int:camera_id>/capture/": Entry(roles("capture"), kwargs=lambda w: {"camera_id": w["camera"].pk}),
    # The entrance display: only a browser paired with this camera as its display.
    "entrance/<int:camera_id>/": Entry(
        roles("display"), kwargs=lambda w: {"camera_id": w["camera"].pk}
    ),  # a device's sign-in step: trades a one-time code for its token
    "login/": Entry(ANY),
    "logout/": Entry(ANY, "POST"),
    "i18n/setlang/": Entry(ANY, "POST"),
    "account/two-factor/": Entry(USERS),
    "account/language": Entry(USERS, "POST", body=other_language),
    "dashboard/": Entry(USERS),
    # Only people with a live feed (and so a siren) may mute it; each mute is audited.
    "alerts/sound/mute": Entry(roles("alice", "bob", "charlie", "paula"), "POST", body=lambda w, user: {"minutes": "5"}),
    "alerts/<int:alert_id>/": Entry(roles("alice", "audrey"), kwargs=alert_kwargs),
    "alerts/<int:alert_id>/review": Entry(roles("alice"), "POST", alert_kwargs, body=next_review),
    "alerts/<int:alert_id>/image/<str:kind>": Entry(
        roles("alice", "audrey"), kwargs=lambda w: {**alert_kwargs(w), "kind": "probe"}
    ),
    "alerts/<int:alert_id>/sightings/<int:sighting_id>/<str:kind>": Entry(
        roles("alice", "audrey"), kwargs=lambda w: {**alert_kwargs(w), "sighting_id": w["sighting"].pk, "kind": "face"}
    ),
    "alerts/<int:alert_id>/reference/<int:photo_id>": Entry(
        roles("alice", "audrey"), kwargs=lambda w: {**alert_kwargs(w), "photo_id": w["photo"].pk}
    ),
    "alerts/<int:alert_id>/open-case": Entry(
        roles("paula"),
        "POST",
        lambda w: {"alert_id": w["escalated"].pk},
        body=lambda w, u: {"version": w["escalated"].version},
    ),
    "police/": Entry(roles("paula", "audrey")),
    "cases/<int:case_id>/": Entry(roles("paula", "audrey"), kwargs=case_kwargs),
    "cases/<int:case_id>/notes": Entry(roles("paula"), "POST", case_kwargs, body=NOTE),
    "cases/<int:case_id>/close": Entry(roles("paula"), "POST", case_kwargs, body=closing("case")),
    "cases/<int:case_id>/export": Entry(roles("paula"), kwargs=case_kwargs),
    "cases/<int:case_id>/release-hold": Entry(
        roles("paula"), "POST", lambda w: {"case_id": w["held_case"].pk}, body=lambda w, u: {"reason": "court ruled"}
    ),
    "audit/": Entry(roles("audrey")),
    "api/v1/alerts/": Entry(roles("alice", "alice_key", "admin_key", "audrey"), listed=lambda w: w["alert"].pk),
    "api/v1/alerts/<int:alert_id>/": Entry(roles("alice", "alice_key", "admin_key", "audrey"), kwargs=alert_kwargs),
    # An alert has three review steps (start, confirm, dismiss): alice's page, alice and alice_key take them;
    # admin_key is of alice_key's role and scope (its own review: tests/test_api_keys.py).
    "api/v1/alerts/<int:alert_id>/review": Entry(roles("alice", "alice_key"), "POST", alert_kwargs, body=next_review),
    "api/v1/alerts/<int:alert_id>/images/<str:kind>": Entry(
        roles("alice", "alice_key", "admin_key", "audrey"), kwargs=lambda w: {**alert_kwargs(w), "kind": "probe"}
    ),
    "api/v1/frames": Entry(roles(), "POST"),  # cameras only, by token: no signed-in person
    "api/v1/cameras/": Entry(roles("alice", "alice_key", "admin_key", "audrey"), listed=lambda w: w["camera"].pk),
    "api/v1/cameras/<int:camera_id>/": Entry(
        roles("alice", "alice_key", "admin_key", "audrey"), kwargs=lambda w: {"camera_id": w["camera"].pk}
    ),
    # The webhook log: the bank's administrators only (not its readers, not another bank's).
    "api/v1/webhooks/": Entry(roles("admin_key"), listed=lambda w: w["webhook"].pk),
    "api/v1/webhooks/<int:webhook_id>/deliveries/": Entry(
        roles("admin_key"), kwargs=lambda w: {"webhook_id": w["webhook"].pk}, listed=lambda w: w["delivery"].pk
    ),
    "api/v1/webhook-deliveries/<int:delivery_id>/replay": Entry(
        roles("admin_key"), "POST", lambda w: {"delivery_id": w["delivery"].pk}
    ),
    "api/v1/cameras/<int:camera_id>/rotate-token": Entry(
        roles("admin_key"), "POST", lambda w: {"camera_id": w["camera"].pk}, body=lambda w, u: {"grace_seconds": 60}
    ),
    "api/v1/cases/": Entry(roles("paula", "paula_key", "audrey"), listed=lambda w: w["case"].pk),
    "api/v1/cases/<int:case_id>/": Entry(roles("paula", "paula_key", "audrey"), kwargs=api_case_kwargs),
    "api/v1/cases/<int:case_id>/notes": Entry(roles("paula", "paula_key"), "POST", api_case_kwargs, body=NOTE),
    # A case closes once and paula closes it first: the police key's own close is in tests/test_api_keys.py.
    "api/v1/cases/<int:case_id>/close": Entry(roles("paula"), "POST", api_case_kwargs, body=closing("api_case")),
    "api/v1/cases/<int:case_id>/export": Entry(roles("paula", "paula_key"), kwargs=api_case_kwargs),
    "api/v1/photos/<int:pk>/<str:kind>": Entry(roles("carol"), kwargs=lambda w: {"pk": w["photo"].pk, "kind": "image"}),
    "api/v1/^watchlists/$": Entry(roles("carol")),
    "api/v1/^watchlists/(?P<pk>[^/.]+)/$": Entry(roles("carol"), kwargs=lambda w: {"pk": w["subject"].watchlist_id}),
    "api/v1/^subjects/$": Entry(roles("carol")),
    "api/v1/^subjects/(?P<pk>[^/.]+)/$": Entry(roles("carol"), kwargs=lambda w: {"pk": w["subject"].pk}),
    "api/v1/^subjects/(?P<pk>[^/.]+)/photos/$": Entry(roles("carol"), kwargs=lambda w: {"pk": w["subject"].pk}),
    "api/v1/^photos/$": Entry(roles("carol")),
    "api/v1/^photos/(?P<pk>[^/.]+)/$": Entry(roles("carol"), kwargs=lambda w: {"pk": w["photo"].pk}),
    "api/v1/^photos/(?P<pk>[^/.]+)/decision/$": Entry(
        roles("carol"), "POST", kwargs=held_photo, body=lambda w, user: {"decision": "different", "note": "twins"}
    ),
    # The API's description is for signed-in users only.
    "api/schema/": Entry(USERS | frozenset(KEYS)),
    "api/docs/": Entry(USERS | frozenset(KEYS)),
}
# The admin site guards itself (staff only, and curators need their second factor); every one of its
# routes is checked for the roles that are not staff. Its sign-in and sign-out pages are public.
ADMIN_PUBLIC = {"admin/login/", "admin/logout/"}
ADMIN_STAFF = roles("carol")
# The data protection officer is staff too, and reaches only the admin's data protection pages
# (privacy/admin.py: the assessment, requests, holds, breaches, notices; nothing is deleted there)
# and every staff member's own pages. For her the admin's redirects are followed (an object's bare
# URL redirects to its change page, which is where the permission is checked).
ADMIN_OFFICER = roles("dora")
OFFICER_ADMIN = ("admin/privacy/", "admin/cases/legalhold/")
ADMIN_OWN = {"admin/", "admin/password_change/", "admin/password_change/done/", "admin/jsi18n/"}
# Made by the system, not typed in: the assessments produced, and banks (their notice is edited).
OFFICER_CANNOT = {"admin/privacy/privacyreport/add/", "admin/privacy/notice/add/"}
# The objects the officer's admin routes are tried on (other admin routes get 1, which does not exist).
OFFICER_OBJECTS = {
    "admin/privacy/privacyreport/": "privacy_report",
    "admin/privacy/datarequest/": "data_request",
    "admin/privacy/breach/": "breach",
    "admin/privacy/notice/": "bank",
    "admin/cases/legalhold/": "hold",
}
SESSION_ENDING = {"logout/", "admin/logout/"}
SOCKETS = {
    "ws/alerts/": roles("alice", "bob", "charlie", "paula"),  # each receives only their own scope
    "ws/entrance/<int:camera_id>/": roles("display"),  # only the display paired with this camera
}


def admin_entry(route: str) -> Entry:
    method = "POST" if route == "admin/logout/" else "GET"
    if route in ADMIN_PUBLIC:
        return Entry(ANY, method)
    officer = route in ADMIN_OWN or (
        route.startswith(OFFICER_ADMIN) and not route.endswith("/delete/") and route not in OFFICER_CANNOT
    )
    prefix = next((p for p in OFFICER_OBJECTS if route.startswith(p)), None)
    kwargs = (
        (lambda w: {"object_id": w[OFFICER_OBJECTS[prefix]].pk, "pk": w[OFFICER_OBJECTS[prefix]].pk})
        if prefix
        else (lambda w: {})
    )
    return Entry(ADMIN_STAFF | (ADMIN_OFFICER if officer else roles()), method, kwargs)


def walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append((prefix + str(pattern.pattern), pattern))
    return found


def concrete(route: str, kwargs: dict[str, Any]) -> str:
    """A real path for a route: its converters filled from kwargs, anything else with 1."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs.get(m.group(1), 1)), route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs.get(m.group(1), 1)), path)
    path = path.replace("^", "").replace("$", "").replace("\\", "")
    return "/" + path


@pytest.fixture
def world(cast, settings) -> dict[str, Any]:
    camera, _ = create_camera("Saigon Bank", "District 3", "Door")
    subject = make_subject("Le Van Wanted")
    photo = ReferencePhoto(subject=subject, status=ReferencePhoto.Status.ACCEPTED)
    photo.image.save("ref.jpg", ContentFile(b"\xff\xd8reference"), save=False)
    photo.save()
    FaceTemplate.objects.create(
        photo=photo, subject=subject, model_id="SFace+yunet", embedding=random_embedding(3).tobytes()
    )
    alert = make_alert(camera, subject)
    sighting = make_sighting(alert)
    alice = cast["alice"]

    def escalated(name: str) -> Alert:
        other = make_alert(camera, make_subject(name))
        other = review_alert(other, alice, "confirm", version=other.version)
        return review_alert(other, alice, "escalate", version=other.version)

    cases = []
    for name in ("Case subject", "API case subject", "Held case subject"):
        with_case = escalated(name)
        cases.append(open_case(with_case, cast["paula"], version=with_case.version))
    keys = _keys()
    webhook, _ = add_webhook("https://vms.saigonbank.example/hooks", bank_name="Saigon Bank")
    delivery = WebhookDelivery.objects.create(webhook=webhook, event_id="e1", event_type="alert.created", payload={})
    other_camera, _ = create_camera("Saigon Bank", "District 3", "Back door")
    officer = cast["dora"]
    privacy_report, _ = produce_report("html", actor=officer)
    data_request = record_request("access", "Tran Thi B", timezone.now(), actor=officer)
    breach = record_breach(Breach(what="laptop lost", found_at=timezone.now(), data_affected="none"), actor=officer)
    devices = {
        role: pair_device(camera if role != "other_display" else other_camera, kind) for role, kind in DEVICES.items()
    }
    return {
        "camera": camera,
        "devices": devices,
        "keys": keys,
        "webhook": webhook,
        "delivery": delivery,
        "alert": alert,
        "sighting": sighting,
        "photo": photo,
        "subject": subject,
        "escalated": escalated("Open-case subject"),
        "case": cases[0],
        "api_case": cases[1],
        "held_case": cases[2],  # its hold is released by the first allowed POST
        "hold": LegalHold.objects.get(case=cases[0]),
        "bank": camera.branch.bank,
        "privacy_report": privacy_report,
        "data_request": data_request,
        "breach": breach,
    }


def pair_device(camera: Camera, kind: str) -> tuple[str, str]:
    """A device paired with camera as kind, the way /pair/ does it: its cookie's name and value."""
    code, _ = issue_pairing_code(camera, kind)
    response = Client().post("/pair/", {"code": code})
    assert response.status_code in (200, 302), response.status_code
    name = cookie_name(camera.pk, kind)
    return name, response.cookies[name].value


def clients(
    cast: dict[str, User],
    only: str = "",
    devices: dict[str, tuple[str, str]] | None = None,
    keys: dict[str, str] | None = None,
) -> dict[str, Client]:
    result = {"anonymous": Client()}
    for name in USERS if not only else USERS & {only}:
        result[name] = Client()
        result[name].force_login(cast[name])  # conftest also verifies the second factor
    for role, (cookie, token) in (devices or {}).items():
        if not only or role == only:
            result[role] = Client()
            result[role].cookies[cookie] = token
    for role, key in (keys or {}).items():
        if not only or role == only:
            result[role] = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return result


def state() -> tuple[Any, ...]:
    """What a write could change; a refused write must leave it as it was."""
    return (
        list(Alert.objects.order_by("id").values_list("id", "status", "version")),
        list(Case.objects.order_by("id").values_list("id", "status")),
        CaseNote.objects.count(),
        list(LegalHold.objects.order_by("id").values_list("id", "released_at")),
        frames_queued(),
        list(User.objects.order_by("id").values_list("id", "language")),
        list(Camera.objects.order_by("id").values_list("id", "token_hash", "name", "is_active")),
        WebhookDelivery.objects.count(),
        list(ReferencePhoto.objects.order_by("id").values_list("id", "decision")),
        AuditEntry.objects.filter(action__startswith="alerts.sound_").count(),  # a mute is a write to the log
    )


def outcome(response: Any, entry: Entry, world: dict[str, Any], changed: bool) -> str:
    status = response.status_code
    assert status < 500, f"server error {status}"
    location = response.get("Location", "")
    if status in (401, 403, 404) or (status in (301, 302) and location.startswith(SIGN_IN_PAGES)):
        return "refused"
    if entry.method == "POST":  # a page may answer a refused write with its form and an error
        return "allowed" if changed else "refused"
    if entry.listed is not None and status == 200:
        ids = [item.get("id") for item in response.json().get("results", [])]
        return "allowed" if entry.listed(world) in ids else "refused"
    return "allowed"


def test_every_route_answers_every_role_as_the_matrix_says(world, cast):
    routes = walk(get_resolver().url_patterns)
    missing = [route for route, _ in routes if route not in MATRIX and not route.startswith("admin/")]
    assert not missing, "routes with no entry in tests/test_access_matrix.py MATRIX: " + ", ".join(missing)
    stale = set(MATRIX) - {route for route, _ in routes}
    assert not stale, f"MATRIX entries for routes that no longer exist: {sorted(stale)}"

    users = clients(cast, devices=world["devices"], keys=world["keys"])
    wrong: list[str] = []
    checked = 0
    for route, _ in routes:
        entry = admin_entry(route) if route.startswith("admin/") else MATRIX[route]
        path = concrete(route, entry.kwargs(world))
        for role in ROLES:
            if route.startswith("admin/") and route != "admin/" and role in ADMIN_STAFF:
                continue  # which admin pages a curator may open is the admin's own permission table
            # Signing out would end the shared session of every later check: use a throwaway one.
            client = clients(cast, role, world["devices"], world["keys"])[role] if route in SESSION_ENDING else users[role]
            before = state() if entry.method == "POST" else None
            if entry.method == "POST":
                body = entry.body(world, cast.get(role))
                if route.startswith("api/"):
                    response = client.post(path, json.dumps(body), content_type="application/json")
                else:
                    response = client.post(path, body)
            elif route.startswith("admin/") and role in ADMIN_OFFICER:
                response = client.get(path, follow=True)
                hops = [url for url, _ in response.redirect_chain]
                # Sent to a sign-in page, or back to the admin's index from elsewhere (the admin's
                # answer for an object it will not show): refused.
                if any(url.startswith(SIGN_IN_PAGES) for url in hops) or (hops and hops[-1] == "/admin/" != path):
                    response.status_code = 403
            else:
                response = client.get(path)
            checked += 1
            got = outcome(response, entry, world, changed=before is not None and state() != before)
            if entry.allowed is not ANY:
                expected = "allowed" if role in entry.allowed else "refused"
                if got != expected:
                    wrong.append(
                        f"{entry.method} {path} ({route}) as {role}: {got} ({response.status_code}), expected {expected}"
                    )
    print(f"\naccess matrix: {len(routes)} routes, {checked} route x role checks")
    assert not wrong, "\n".join(wrong)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_every_socket_route_admits_only_the_roles_with_a_feed(cast):
    from bankwatch.asgi import application

    routes = [str(pattern.pattern) for pattern in websocket_urlpatterns]
    missing = [route for route in routes if route not in SOCKETS]
    assert not missing, f"socket routes with no entry in SOCKETS: {missing}"
    camera_id, devices = await database_sync_to_async(_paired_devices)()
    keys = await database_sync_to_async(_keys)()
    wrong = []
    for route in routes:
        for role in ROLES:
            headers = [(b"origin", b"http://127.0.0.1")]
            if role in devices:
                name, token = devices[role]
                headers.append((b"cookie", f"{name}={token}".encode()))
            elif role in KEYS:
                headers.append((b"authorization", f"Api-Key {keys[role]}".encode()))
            elif role != "anonymous":
                headers.append((b"cookie", await database_sync_to_async(_cookie)(cast[role])))
            socket = WebsocketCommunicator(application, concrete(route, {"camera_id": camera_id}), headers=headers)
            connected, _ = await socket.connect()
            await socket.disconnect()
            if connected != (role in SOCKETS[route]):
                wrong.append(f"{route} as {role}: {'accepted' if connected else 'refused'}")
    assert not wrong, wrong


def _paired_devices() -> tuple[int, dict[str, tuple[str, str]]]:
    camera, _ = create_camera("Saigon Bank", "District 3", "Door")
    other, _ = create_camera("Saigon Bank", "District 3", "Back door")
    devices = {role: pair_device(camera if role != "other_display" else other, kind) for role, kind in DEVICES.items()}
    return camera.pk, devices


def _keys() -> dict[str, str]:
    return {role: create_api_key(role, **scope)[1] for role, scope in KEYS.items()}


def _cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def test_nothing_is_served_under_the_media_url_not_even_to_its_owner(world, cast):
    """Biometric files go out only through the scope-checked views above, never as public media."""
    names = [world["alert"].probe_crop.name, world["sighting"].face_crop.name, world["photo"].image.name]
    users = clients(cast, devices=world["devices"], keys=world["keys"])
    for name in [*names, "", "alerts/", "../db.sqlite3"]:
        for role in ROLES:
            response = users[role].get(settings.MEDIA_URL + name)
            assert response.status_code == 404, (name, role, response.status_code)
