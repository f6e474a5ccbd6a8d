"""Which event announces a newer version of an object: by sequencer, else event time, else ETag."""

import pytest

from batchpoint.triggers.object_versions import ObjectVersion, TakenVersions, event_order


def test_event_order_prefers_the_sequencer_and_normalises_it() -> None:
    assert event_order("0055aed6dcd90281e5", "2026-11-03T10:15:02.123Z") == "s0055AED6DCD90281E5"
    assert event_order("", "2026-11-03T10:15:02.123Z") == "t2026-11-03T10:15:02.123Z"
    assert event_order("not-hex", "") == ""


@pytest.mark.parametrize(
    ("new", "taken", "supersedes"),
    [
        pytest.param(ObjectVersion("A", "s02"), ObjectVersion("A", "s02"), False, id="redelivery"),
        pytest.param(ObjectVersion("A", "s03"), ObjectVersion("B", "s02"), True, id="back-to-earlier-content"),
        pytest.param(ObjectVersion("A", "s03"), ObjectVersion("A", "s02"), True, id="same-bytes-uploaded-again"),
        pytest.param(ObjectVersion("B", "s01"), ObjectVersion("A", "s02"), False, id="older-event-late"),
        pytest.param(ObjectVersion("B", "s0100"), ObjectVersion("A", "s02"), True, id="lengths-differ:-by-etag"),
        pytest.param(ObjectVersion("A", "s0100"), ObjectVersion("A", "s02"), False, id="lengths-differ:-same-etag"),
        pytest.param(
            ObjectVersion("B", "t2026-11-03T10:15:01.000Z"),
            ObjectVersion("A", "t2026-11-03T10:15:02.000Z"),
            False,
            id="older-by-event-time",
        ),
        pytest.param(
            ObjectVersion("B", "t2026-11-03T10:15:01.000Z"), ObjectVersion("A", "s02"), True, id="kinds-differ"
        ),
        pytest.param(ObjectVersion("B"), ObjectVersion("A"), True, id="no-order:-new-etag"),
        pytest.param(ObjectVersion("A"), ObjectVersion("A"), False, id="no-order:-same-etag"),
    ],
)
def test_supersedes(new: ObjectVersion, taken: ObjectVersion, supersedes: bool) -> None:
    assert new.supersedes(taken) is supersedes


def test_taken_versions_forget_the_least_recently_taken_first() -> None:
    taken = TakenVersions(limit=2)
    assert taken.take("landing", "a.csv", ObjectVersion("A", "s01"))
    assert taken.take("landing", "b.csv", ObjectVersion("A", "s01"))
    assert taken.take("landing", "a.csv", ObjectVersion("B", "s02"))  # a.csv is now the most recent
    assert taken.take("landing", "c.csv", ObjectVersion("A", "s01"))  # forgets b.csv
    assert not taken.take("landing", "a.csv", ObjectVersion("B", "s02"))
    assert taken.take("landing", "b.csv", ObjectVersion("A", "s01"))
    assert TakenVersions.from_json(taken.to_json(), limit=2) == taken
    assert TakenVersions(limit=0).take("landing", "a.csv", ObjectVersion("A", "s01"))
