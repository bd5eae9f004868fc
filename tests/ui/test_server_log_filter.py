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

#: what the server log held after zh/03's kernel was shut down (pyzmq 27 / ipykernel 7, two test workers):
#: the kernel's output stream still flushing while pyzmq shut down: three tracebacks, each ending in the same
#: stack (ZMQ_SEND_STACK)
ZMQ_SEND_STACK = """  File "/site-packages/zmq/eventloop/zmqstream.py", line 570, in _run_callback
    f = callback(*args, **kwargs)
        ^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/site-packages/ipykernel/iostream.py", line 246, in _handle_event
    event_f()
  File "/site-packages/ipykernel/iostream.py", line 352, in <lambda>
    self.schedule(lambda: self._really_send(*args, **kwargs))
                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/site-packages/ipykernel/iostream.py", line 370, in _really_send
    self.socket.send_multipart(msg, *args, **kwargs)
  File "/site-packages/zmq/sugar/socket.py", line 767, in send_multipart
    return self.send(msg_parts[-1], flags, copy=copy, track=track)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/site-packages/zmq/sugar/socket.py", line 713, in send
    return super().send(data, flags=flags, copy=copy, track=track)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "zmq/backend/cython/_zmq.py", line 1152, in zmq.backend.cython._zmq.Socket.send
  File "zmq/backend/cython/_zmq.py", line 1215, in zmq.backend.cython._zmq.Socket.send
  File "zmq/backend/cython/_zmq.py", line 364, in zmq.backend.cython._zmq.Frame.__init__
  File "/site-packages/zmq/utils/garbage.py", line 166, in _push_socket
    raise RuntimeError("zmq gc socket requested during shutdown")
RuntimeError: zmq gc socket requested during shutdown
"""
ZMQ_TEARDOWN = ("""[I 2026-12-04 22:13:52.872 ServerApp] Kernel shutdown: 324042b7
[I 2026-12-04 22:13:58.014 LabApp] Build is up to date
[W 2026-12-04 22:13:58.507 ServerApp] Notebook notebooks/zh/03_model_and_local_training.ipynb is not trusted
[I 2026-12-04 22:14:00.237 ServerApp] Kernel started: eb161f5b
[IPKernelApp] WARNING | Kernel is running over TCP without encryption. All communication ...
[I 2026-12-04 22:14:00.764 ServerApp] Adapting from protocol version 5.3 (kernel eb161f5b) to 5.4 (client).
[I 2026-12-04 22:14:00.769 ServerApp] Connecting to kernel eb161f5b.
[I 2026-12-04 22:14:20.510 ServerApp] Kernel shutdown: eb161f5b
ERROR:tornado.general:Uncaught exception in ZMQStream callback
Traceback (most recent call last):
""" + ZMQ_SEND_STACK + """ERROR:tornado.general:Uncaught exception in zmqstream callback
Traceback (most recent call last):
  File "/site-packages/zmq/eventloop/zmqstream.py", line 620, in _handle_events
    self._handle_recv()
  File "/site-packages/zmq/eventloop/zmqstream.py", line 649, in _handle_recv
    self._run_callback(callback, msg)
""" + ZMQ_SEND_STACK + """ERROR:tornado.application:Exception in callback functools.partial(<function \
ZMQStream._update_handler.<locals>.<lambda> at 0x7fb266a4dbc0>)
Traceback (most recent call last):
  File "/site-packages/tornado/ioloop.py", line 756, in _run_callback
    ret = callback()
          ^^^^^^^^^^
  File "/site-packages/zmq/eventloop/zmqstream.py", line 704, in <lambda>
    self.io_loop.add_callback(lambda: self._handle_events(self.socket, 0))
                                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/site-packages/zmq/eventloop/zmqstream.py", line 620, in _handle_events
    self._handle_recv()
  File "/site-packages/zmq/eventloop/zmqstream.py", line 649, in _handle_recv
    self._run_callback(callback, msg)
""" + ZMQ_SEND_STACK + """[I 2026-12-04 22:14:26.350 LabApp] Build is up to date
""")

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


def test_the_zmq_shutdown_tracebacks_are_removed():
    cleaned = server_log_without_teardown_noise(ZMQ_TEARDOWN)
    assert "Traceback" not in cleaned and "zmq gc socket" not in cleaned
    assert "Kernel shutdown" in cleaned and "Build is up to date" in cleaned


def test_a_zmq_error_of_the_server_itself_stays():
    """The same RuntimeError raised by another code path (not tornado's ZMQStream callback log line) stays."""
    other = OTHER.replace("Event loop is closed", "zmq gc socket requested during shutdown")
    assert server_log_without_teardown_noise(other) == other
    assert "Traceback" in server_log_without_teardown_noise(ZMQ_TEARDOWN + other)
