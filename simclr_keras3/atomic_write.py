"""Write files so that readers (and crashes) see the old file or the new one, never half of one."""

import os
import tempfile


def write_path_atomically(path, write):
    """Call ``write(tmp_path)`` on a temporary path next to ``path``, fsync it, rename it over.

    The temporary file sits in the destination folder (created if needed) so ``os.replace`` is a
    same-filesystem, atomic rename; it is removed if ``write`` fails, leaving ``path`` untouched.

    Example:
        >>> write_path_atomically("runs/a/model.keras", model.save)   # doctest: +SKIP
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=directory)
    os.close(fd)
    try:
        write(tmp_path)
        with open(tmp_path, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # persist the rename itself
    finally:
        os.close(dir_fd)


def write_atomically(path, write):
    """Call ``write(binary_handle)`` on a temporary file, then rename it over ``path``.

    Example:
        >>> write_atomically("out/metrics.json", lambda handle: handle.write(b"{}"))  # doctest: +SKIP
    """

    def write_path(tmp_path):
        with open(tmp_path, "wb") as handle:
            write(handle)

    write_path_atomically(path, write_path)
