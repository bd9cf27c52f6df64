"""A turn dropped before it was consumed or waited for warns (ResourceWarning) where it started."""

from __future__ import annotations

import gc
import sys
import warnings
from typing import Callable, List

import responses_ws as rws

MODEL = {"model": "gpt-5.6", "store": False}


def _dropped_warnings(action: Callable[[], None]) -> List[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
        gc.collect()
    return [w for w in caught if issubclass(w.category, ResourceWarning)]


def _line() -> int:
    return sys._getframe(1).f_lineno


def test_dropping_an_unread_turn_warns_with_its_origin(client: rws.Client) -> None:
    with client.session(defaults=MODEL) as session:
        where: List[int] = []

        def drop() -> None:
            where.append(_line() + 1)
            session.create(input="never read")

        caught = _dropped_warnings(drop)
        assert len(caught) == 1
        message = str(caught[0].message)
        assert f"{__file__}:{where[0]}" in message and "cancelled" in message
        assert session.text({"input": "the session goes on"})


def test_dropping_a_partly_read_turn_warns(client: rws.Client) -> None:
    with client.session(defaults=MODEL) as session:
        def drop() -> None:
            for _event in session.turn({"input": "read one event"}):
                break

        assert len(_dropped_warnings(drop)) == 1


def test_consumed_waited_or_closed_turns_do_not_warn(client: rws.Client) -> None:
    with client.session(defaults=MODEL) as session:
        def use_them() -> None:
            list(session.create(input="iterated"))
            session.create(input="result").result()
            session.create(input="wait").wait()
            session.create(input="text").text()
            session.create(input="closed").close()
            with session.create(input="with block"):
                pass
            session.prewarm().result()

        assert _dropped_warnings(use_them) == []


def test_closing_the_session_first_is_a_deliberate_drop(client: rws.Client) -> None:
    def drop_after_close() -> None:
        session = client.session(defaults=MODEL)
        turn = session.create(input="closed with its session")
        session.close()
        del turn

    assert _dropped_warnings(drop_after_close) == []
