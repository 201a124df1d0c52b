"""`seerbridge run` with kill points inside the library's disk writes, for tests/e2e/test_crash.py.

Started as `python -m tests.e2e.crash_hooks run` (from the repository's root). With
`CRASH_LIBRARY_KILL=<where>:<n>[:<text>]` the process kills itself with SIGKILL at the n-th library disk operation of
that kind (counting only those whose final path contains `<text>`, when given):

    before-rename  a complete `.seerbridge-tmp-*` entry is about to be renamed over its final name
    after-rename   one was just renamed: the entry is on disk, the store has not recorded it written and Jellyfin has
                   not been told its folder
    remove         a path under the library root is about to be unlinked (a stray entry, a leftover temp file)

Before dying it appends the path it dies at, one line, to the file `CRASH_LIBRARY_FIRED` names, so the test knows the
point was reached. Without `CRASH_LIBRARY_KILL` nothing is patched: it is `python -m seerbridge` exactly.

The operations are caught at `os.replace` and `os.unlink` (what library/disk.py calls), by their paths: a rename
whose source is a `.seerbridge-tmp-` name, an unlink under `SEERBRIDGE_LIBRARY__ROOT`.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

TMP_PREFIX = ".seerbridge-tmp-"  # library/disk.py's TMP_PREFIX, spelled out: the hook must not import seerbridge first
WHERE = ("before-rename", "after-rename", "remove")


def _install(spec: str, fired_file: str, root: str) -> None:
    where, _, rest = spec.partition(":")
    nth_text, _, text = rest.partition(":")
    if where not in WHERE or not nth_text.isdigit():
        raise SystemExit(f"CRASH_LIBRARY_KILL={spec!r}: expected <{'|'.join(WHERE)}>:<n>[:<text>]")
    nth = int(nth_text)
    lock = threading.Lock()
    seen = 0
    library = Path(os.path.abspath(root))
    real_replace, real_unlink = os.replace, os.unlink

    def hit(kind: str, path: Any) -> bool:
        nonlocal seen
        if kind != where or text not in os.fsdecode(path):
            return False
        with lock:
            seen += 1
            return seen == nth

    def die(path: object) -> None:
        with open(fired_file, "a", encoding="utf-8") as out:
            out.write(f"{path}\n")
        os.kill(os.getpid(), signal.SIGKILL)

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if not Path(os.fsdecode(src)).name.startswith(TMP_PREFIX):
            real_replace(src, dst, *args, **kwargs)
            return
        if hit("before-rename", dst):
            die(dst)
        real_replace(src, dst, *args, **kwargs)
        if hit("after-rename", dst):
            die(dst)

    def unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(path, (str, bytes, os.PathLike)):
            absolute = Path(os.path.abspath(os.fsdecode(path)))
            if library in absolute.parents and hit("remove", absolute):
                die(absolute)
        real_unlink(path, *args, **kwargs)

    os.replace = replace
    os.unlink = unlink


def main() -> None:
    spec = os.environ.get("CRASH_LIBRARY_KILL")
    if spec:
        _install(spec, os.environ["CRASH_LIBRARY_FIRED"], os.environ["SEERBRIDGE_LIBRARY__ROOT"])
    from seerbridge.cli import main as seerbridge

    seerbridge()


if __name__ == "__main__":
    main()
