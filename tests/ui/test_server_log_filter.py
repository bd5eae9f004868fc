"""The browser tests ignore ipykernel's known teardown traceback in the server log, and nothing else."""
from .helpers import server_log_without_teardown_noise

#: what CI's server log held after 09b's kernel was shut down (ipykernel 7.4, Python 3.11)
TEARDOWN = """[I 2026-12-04 16:09:05.533 ServerApp] Kernel shutdown: 677b79be
Exception ignored in: <coroutine object Kernel.shell_channel_thread_main at 0x7f174bced6c0>
Traceback (most recent call last):
  File "/usr/lib/python3.11/warnings.py", line 537, in _warn_unawaited_coroutine
    warn(msg, category=RuntimeWarning, stacklevel=2, source=coro)
  File "/site-packages/tornado/platform/asyncio.py", line 214, in call_at
    return self.asyncio_loop.call_later(
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3.11/asyncio/base_events.py", line 519, in _check_closed
    raise RuntimeError('Event loop is closed')
RuntimeError: Event loop is closed
[I 2026-12-04 16:09:06.000 ServerApp] Saving file at /09b.ipynb
"""

OTHER = """[E 2026-12-04 16:09:07 ServerApp] Uncaught exception
Traceback (most recent call last):
  File "/site-packages/jupyter_server/base/handlers.py", line 1, in get
    raise RuntimeError('Event loop is closed')
RuntimeError: Event loop is closed
"""


def test_the_teardown_traceback_is_removed():
    cleaned = server_log_without_teardown_noise(TEARDOWN)
    assert "Traceback" not in cleaned
    assert "Kernel shutdown" in cleaned and "Saving file" in cleaned


def test_any_other_traceback_stays():
    assert server_log_without_teardown_noise(OTHER) == OTHER
    assert "Traceback" in server_log_without_teardown_noise(TEARDOWN + OTHER)
