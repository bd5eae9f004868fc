"""fedlearn_edu.memory: remembered answers, the missing ones asked for together, least recently used go first."""
import pytest

from fedlearn_edu import batch, memory


def test_missing_keys_are_run_together_once_each():
    calls = []
    mem = memory.RunMemory("squares", limit=10)

    def run_missing(keys):
        calls.append(list(keys))
        return [k * k for k in keys]

    assert mem.answers([3, 1, 3], run_missing) == [9, 1, 9]
    assert mem.answers([1, 2, 3], run_missing) == [1, 4, 9]
    assert calls == [[3, 1], [2]]
    assert mem.info() == {"name": "squares", "size": 3, "limit": 10} and "3 of 10" in repr(mem)


def test_the_least_recently_used_go_first_but_never_the_ones_asked_for():
    mem = memory.RunMemory("ids", limit=2)
    mem.answers([1, 2], lambda keys: keys)
    mem.answers([1], lambda keys: keys)           # 1 is now the most recent: 2 goes when 3 comes
    mem.answers([3], lambda keys: keys)
    assert len(mem) == 2
    ran = []
    mem.answers([1, 3], lambda keys: ran.extend(keys) or keys)
    assert ran == []
    assert mem.answers([4, 5, 6], lambda keys: keys) == [4, 5, 6]     # more than the limit at once: all returned


def test_forget_all_empties_every_memory_of_the_kit():
    mem = memory.RunMemory("mine", limit=4)
    mem.answers(["a"], lambda keys: keys)
    memory.forget_all()
    assert len(mem) == 0 and batch.cache_info()["size"] == 0


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="limit"):
        memory.RunMemory("x", limit=0)
    with pytest.raises(RuntimeError, match="2 keys"):
        memory.RunMemory("x", limit=3).answers([1, 2], lambda keys: [0])
