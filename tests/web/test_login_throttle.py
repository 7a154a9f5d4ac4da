"""Login as an unauthenticated CPU amplifier, closed: failed logins are throttled per client
address and per user name in the store (shared by every server on it), a user name's throttle
only delays, a trusted proxy's client address is the one counted, and no more than the gate's
slots of password hashes are ever computed at once."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable

import pytest
from web_helpers import PASSWORDS, Client

from legato.store.engine import Store
from legato.web import passwords
from legato.web.app import create_app
from legato.web.config import AuthConfig
from legato.web.throttle import client_key

WRONG = "not-the-password-1"


class Clock:
    """The throttle's wall clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _app(store: Store, clock: Clock | None = None, **auth: object):  # type: ignore[no-untyped-def]
    app = create_app(store, auth=AuthConfig(local_admin=False, **auth))  # type: ignore[arg-type]
    if clock is not None:
        app.state.legato.throttle.clock = clock
    return app


def _from(app, address: str) -> Client:  # type: ignore[no-untyped-def]
    return Client(app, base_url="http://legato.example", client=(address, 40000))


def _login(client: Client, name: str, password: str = WRONG, **kwargs):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/session", json={"username": name, "password": password}, **kwargs)


def test_a_spray_of_distinct_names_from_one_address_is_throttled(store: Store, users):
    app = _app(store, login_attempts=3, login_window=60)
    sprayer = _from(app, "203.0.113.5")
    for i in range(3):
        assert _login(sprayer, f"nobody-{i}").status_code == 401
    refused = _login(sprayer, "nobody-3")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "from this address" in refused.json()["error"]["message"]
    # the address is refused whoever it names, the right password included: nothing is hashed
    assert _login(sprayer, "vera", PASSWORDS["vera"]).status_code == 429
    # another address is not held up by it
    assert _login(_from(app, "198.51.100.7"), "vera", PASSWORDS["vera"]).status_code == 200


def test_the_address_is_free_again_when_its_failures_leave_the_window(store: Store, users):
    clock = Clock()
    app = _app(store, clock, login_attempts=2, login_window=60)
    client = _from(app, "203.0.113.5")
    assert _login(client, "vera").status_code == 401
    clock.now += 30
    assert _login(client, "otto").status_code == 401
    refused = _login(client, "vera", PASSWORDS["vera"])
    assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
    clock.now += 30.5  # the first failure has left the window
    assert _login(client, "vera", PASSWORDS["vera"]).status_code == 200


def test_one_attacking_address_cannot_lock_the_user_out(store: Store, users):
    """The per-address limit stops the attacker before the name's count can delay anyone."""
    app = _app(store, login_attempts=3, login_name_attempts=9)
    attacker = _from(app, "203.0.113.5")
    for _ in range(3):
        assert _login(attacker, "vera").status_code == 401
    for _ in range(20):
        assert _login(attacker, "vera").status_code == 429  # not counted, not hashed
    assert _login(_from(app, "198.51.100.7"), "vera", PASSWORDS["vera"]).status_code == 200


def test_a_distributed_guess_at_one_name_is_delayed_never_locked(store: Store, users):
    clock = Clock()
    app = _app(store, clock, login_attempts=3, login_name_attempts=6, login_name_max_delay=8)
    for bot in ("203.0.113.1", "203.0.113.2"):
        for _ in range(3):
            assert _login(_from(app, bot), "vera").status_code == 401
    owner = _from(app, "198.51.100.7")
    delayed = _login(owner, "vera", PASSWORDS["vera"])
    assert delayed.status_code == 429 and delayed.headers["retry-after"] == "1"
    assert "user name" in delayed.json()["error"]["message"]
    # each further failure doubles the wait, up to login_name_max_delay
    waits = []
    for i in range(6):
        clock.now += float(delayed.headers["retry-after"])
        assert _login(_from(app, f"203.0.113.{10 + i}"), "vera").status_code == 401
        delayed = _login(owner, "vera", PASSWORDS["vera"])
        assert delayed.status_code == 429
        waits.append(int(delayed.headers["retry-after"]))
    assert waits == [2, 4, 8, 8, 8, 8]
    # other names are not delayed by it
    assert _login(owner, "otto", PASSWORDS["otto"]).status_code == 200
    clock.now += 8
    assert _login(owner, "vera", PASSWORDS["vera"]).status_code == 200


def test_a_success_clears_that_address_s_failures_for_that_name_only(store: Store, users):
    app = _app(store, login_attempts=3)
    client = _from(app, "203.0.113.5")
    assert _login(client, "vera").status_code == 401
    assert _login(client, "nobody").status_code == 401
    assert _login(client, "vera", PASSWORDS["vera"]).status_code == 200  # clears vera's one
    assert _login(client, "nobody-2").status_code == 401
    assert _login(client, "nobody-3").status_code == 401  # the third failure of the address
    assert _login(client, "nobody-4").status_code == 429  # so nobody's failure still counted


def test_behind_a_trusted_proxy_each_client_address_counts_on_its_own(store: Store, users):
    app = _app(store, login_attempts=3, forwarded_allow_ips="10.0.0.2")
    proxy = _from(app, "10.0.0.2")

    def through_proxy(name: str, client: str, password: str = WRONG):  # type: ignore[no-untyped-def]
        return _login(proxy, name, password, headers={"X-Forwarded-For": client})

    for _ in range(3):
        assert through_proxy("vera", "203.0.113.5").status_code == 401
    assert through_proxy("vera", "203.0.113.5").status_code == 429
    assert through_proxy("vera", "198.51.100.7", PASSWORDS["vera"]).status_code == 200
    # an untrusted peer's header is not believed: it is counted under its own address
    forger = _from(app, "198.51.100.99")
    for i in range(3):
        assert _login(forger, "x", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code == 401
    assert _login(forger, "x", headers={"X-Forwarded-For": "192.0.2.77"}).status_code == 429


def test_proxy_headers_from_an_untrusted_proxy_are_named_in_a_warning_once(
    store: Store, users, caplog: pytest.LogCaptureFixture
):
    app = _app(store)
    proxy = _from(app, "10.0.0.2")
    with caplog.at_level(logging.WARNING, logger="legato.web"):
        for _ in range(2):
            _login(proxy, "vera", headers={"X-Forwarded-For": "203.0.113.5"})
    warnings = [r.getMessage() for r in caplog.records if "does not trust" in r.getMessage()]
    assert len(warnings) == 1 and "--forwarded-allow-ips 10.0.0.2" in warnings[0]


def test_the_throttle_is_shared_by_servers_on_one_store(store: Store, users):
    """Two replicas on one store (SQLite and PostgreSQL): failures on one count on the other."""
    other_store = Store(store.url)
    try:
        first = _app(store, login_attempts=3)
        second = _app(other_store, login_attempts=3)
        for _ in range(2):
            assert _login(_from(first, "203.0.113.5"), "vera").status_code == 401
        assert _login(_from(second, "203.0.113.5"), "otto").status_code == 401
        assert _login(_from(first, "203.0.113.5"), "otto").status_code == 429
        assert _login(_from(second, "203.0.113.5"), "ada").status_code == 429
        assert _login(_from(second, "198.51.100.7"), "vera", PASSWORDS["vera"]).status_code == 200
    finally:
        other_store.dispose()


@pytest.mark.parametrize("address", ["2001:db8:1:2::5", "2001:db8:1:2:aaaa::9"])
def test_ipv6_clients_are_counted_per_64_network(address: str):
    assert client_key(address) == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::5") != client_key(address)
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("192.0.2.7") == "192.0.2.7" and client_key(None) == ""


def _counting_scrypt(release: threading.Event) -> tuple[Callable[..., bytes], dict[str, int]]:
    """hashlib.scrypt that records how many run at once and holds each until ``release``."""
    real = hashlib.scrypt
    seen = {"running": 0, "most": 0, "calls": 0}
    lock = threading.Lock()

    def scrypt(*args: object, **kwargs: object) -> bytes:
        with lock:
            seen["running"] += 1
            seen["calls"] += 1
            seen["most"] = max(seen["most"], seen["running"])
        try:
            assert release.wait(timeout=60), "the test never released the hashes"
            return real(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                seen["running"] -= 1

    return scrypt, seen


@pytest.mark.parametrize("slots", [1, 2])
def test_no_more_hashes_run_at_once_than_the_gate_has_slots(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch, slots: int
):
    """16 logins at once on real threads: ``slots`` of them reach the hash and are held there
    until every other one has been answered 503 with Retry-After, without hashing anything."""
    from legato.web import accounts

    accounts.add_user(sqlite_store, "vera", "viewer", PASSWORDS["vera"])
    app = _app(sqlite_store, login_hash_slots=slots, login_attempts=100)
    release = threading.Event()
    scrypt, seen = _counting_scrypt(release)
    monkeypatch.setattr(passwords.hashlib, "scrypt", scrypt)
    statuses: list[int] = []
    retry_after: list[str | None] = []
    answered = threading.Condition()
    logins = 16

    def attempt(i: int) -> None:
        response = _login(_from(app, f"203.0.113.{i}"), "vera")
        with answered:
            statuses.append(response.status_code)
            retry_after.append(response.headers.get("retry-after"))
            answered.notify_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(logins)]
    for thread in threads:
        thread.start()
    with answered:
        assert answered.wait_for(lambda: len(statuses) == logins - slots, timeout=60), statuses
    assert seen["running"] == slots  # the admitted ones are all inside the hash right now
    release.set()
    for thread in threads:
        thread.join(timeout=60)
    assert seen["most"] == slots and seen["calls"] == slots
    assert sorted(statuses) == [401] * slots + [503] * (logins - slots)
    assert {r for s, r in zip(statuses, retry_after, strict=True) if s == 503} == {"1"}
