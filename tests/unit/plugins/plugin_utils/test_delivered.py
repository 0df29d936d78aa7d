"""The registry that makes one change one event across the webhook and change-log sources."""

import threading

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import delivered


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def event(request_id="r1", object_id="d1", action="updated", source_model="dcim.device"):
    return {
        "nautobot": {
            "request_id": request_id,
            "object_id": object_id,
            "action": action,
            "source_model": source_model,
        }
    }


def test_first_delivery_once_per_key():
    registry = delivered.DeliveredRegistry()
    key = delivered.event_key(event())
    assert registry.first_delivery(key) is True
    assert registry.first_delivery(key) is False
    assert registry.first_delivery(delivered.event_key(event(action="deleted"))) is True
    assert registry.first_delivery(delivered.event_key(event(object_id="d2"))) is True
    assert registry.first_delivery(delivered.event_key(event(request_id="r2"))) is True
    assert registry.first_delivery(delivered.event_key(event(source_model="ipam.ipaddress"))) is True
    assert len(registry) == 5


def test_no_request_id_is_never_a_duplicate():
    registry = delivered.DeliveredRegistry()
    key = delivered.event_key(event(request_id=None))
    assert key is None
    assert registry.first_delivery(key) and registry.first_delivery(key)
    assert delivered.event_key({"nautobot": "odd"}) is None and delivered.event_key(None) is None


def test_keys_expire_after_ttl():
    clock = Clock()
    registry = delivered.DeliveredRegistry(ttl=60, clock=clock)
    assert registry.first_delivery("k")
    clock.now += 59.9
    assert not registry.first_delivery("k")
    clock.now += 0.2
    assert registry.first_delivery("k")


def test_size_is_bounded_oldest_forgotten_first():
    registry = delivered.DeliveredRegistry(size=3)
    for key in "abcd":
        assert registry.first_delivery(key)
    assert len(registry) == 3
    assert registry.first_delivery("a")  # forgotten: the oldest went first
    assert not registry.first_delivery("d")


def test_threads_racing_on_one_key_deliver_it_once():
    registry = delivered.DeliveredRegistry()
    results = []
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        for index in range(200):
            results.append((index, registry.first_delivery(("req", index))))

    threads = [threading.Thread(target=worker) for _thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wins = [index for index, first in results if first]
    assert sorted(wins) == list(range(200))


def test_module_level_registry_is_one_object():
    delivered.REGISTRY.clear()
    key = ("module", "level")
    assert delivered.first_delivery(key) is True
    assert delivered.REGISTRY.first_delivery(key) is False
    delivered.REGISTRY.clear()


def test_change_key_is_the_same_for_the_same_change_whatever_the_key_order():
    data = {"id": "d1", "name": "access1", "status": {"name": "Active"}}
    reordered = {"status": {"name": "Active"}, "name": "access1", "id": "d1"}
    key = delivered.change_key("r1", "dcim.device", "d1", "updated", data)
    assert key == delivered.change_key("r1", "dcim.device", "d1", "updated", reordered)
    assert key != delivered.change_key("r1", "dcim.device", "d1", "updated", dict(data, name="access-switch-1"))
    assert key != delivered.change_key("r2", "dcim.device", "d1", "updated", data)
    assert delivered.change_key(None, "dcim.device", "d1", "updated", data) is None


def test_seen_records_nothing_and_mark_records():
    registry = delivered.DeliveredRegistry()
    assert registry.seen(("k",)) is False
    assert registry.seen(("k",)) is False
    registry.mark(("k",))
    assert registry.seen(("k",)) is True
    assert registry.first_delivery(("k",)) is False
    assert registry.seen(None) is False
    registry.mark(None)
    assert len(registry) == 1
