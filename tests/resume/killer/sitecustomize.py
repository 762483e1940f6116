"""Loaded by the resume tests' subprocess: SIGKILL the process after N request results were saved."""

import os
import signal

KILL_AFTER = int(os.environ.get("EVALKIT_TEST_KILL_AFTER", "0"))

if KILL_AFTER:
    import evalkit.engine.request_cache as resume

    original = resume.RequestCache.put
    saved = {"n": 0}

    def put_then_maybe_die(self, key, value):
        original(self, key, value)
        saved["n"] += 1
        if saved["n"] >= KILL_AFTER:
            os.kill(os.getpid(), signal.SIGKILL)

    resume.RequestCache.put = put_then_maybe_die
