"""Write a file so that readers (and crashes) see the old file or the new one, never half of one."""

import os
import tempfile


def write_atomically(path, write):
    """Call ``write(binary_handle)`` on a temporary file next to ``path``, then rename it over.

    The temporary file sits in the destination folder (created if needed) so ``os.replace`` is a
    same-filesystem, atomic rename; it is removed if ``write`` fails.

    Example:
        >>> write_atomically("out/metrics.json", lambda handle: handle.write(b"{}"))
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
