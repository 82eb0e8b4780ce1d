"""Output folders: checked before anything is written, held by one command at a time.

Every command that writes into a folder (``run``, ``experiment``, ``sensitivity``,
``calibrate``, ``report``) opens it through :class:`OutDir`:

- :func:`check_out_dir` refuses, before anything is simulated or written, a path that is a file,
  lies under a file, cannot be created or written (``/proc/...``, a read-only mount, a folder
  without write permission), or holds the outputs of another kind of command (``mixsim run``
  must not overwrite an experiment's ``indicators.parquet``);
- :class:`OutDir` then takes an exclusive lock on the folder for the lifetime of the command: an
  advisory ``flock`` on the file ``.mixsim.lock`` inside it, which holds the pid and the
  command of its holder. A second process on the same folder is refused (exit 2) with the
  folder and the holder's pid. The kernel releases the lock of a process that dies, even by
  ``kill -9``: the next command finds the stale file, takes the lock over and says so. On
  release the lock file is removed, and so is the folder when the command created it and left
  it empty (a command refused after taking the lock leaves nothing behind);
- :class:`ResultFolder` is the resumable folder of ``experiment``, ``calibrate`` and
  ``sensitivity``: a marker file records the fingerprint and identity of the specification its
  results belong to; a folder holding another specification's results is refused with the list
  of what changed (:func:`describe_changes`) unless ``--force``, which removes the command's
  outputs (:class:`FolderLayout`) first.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixsim.model.errors import InputError

__all__ = ["FOLDER_MARKERS", "LOCK_NAME", "FolderLayout", "OutDir", "ResultFolder",
           "check_out_dir", "describe_changes", "fingerprint_of", "folder_kind",
           "read_json_record"]

logger = logging.getLogger(__name__)

#: Name of the lock file inside a held folder.
LOCK_NAME = ".mixsim.lock"
#: The file that marks the folder of each kind of command (its record, written first).
FOLDER_MARKERS = {"experiment": "experiment.json", "sensitivity": "sensitivity.toml",
                  "calibration": "calibration.json", "run": "run.json"}
#: Folders this process holds, by resolved path → [lock file descriptor, depth] (re-entrant).
_held: dict[str, list[int]] = {}
_held_lock = threading.Lock()


def folder_kind(path: Path) -> str | None:
    """Return which command's outputs ``path`` holds (``"experiment"``, ...), or None."""
    for kind, marker in FOLDER_MARKERS.items():
        if (path / marker).is_file():
            return kind
    return None


def check_out_dir(out: Path, option: str = "--out", kind: str | None = None) -> None:
    """Refuse an output folder that cannot be used, before anything is written.

    Args:
        out: The folder (it may not exist yet).
        option: The option or argument that named it, for messages.
        kind: The kind of outputs the command writes (a key of :data:`FOLDER_MARKERS`); a folder
            holding another kind's outputs is refused. None: no kind check.

    Raises:
        InputError: naming the folder and saying what is wrong.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder; give a folder path", source=option,
                         field=str(out))
    # the nearest existing ancestor must be a writable folder
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise InputError(f"cannot be created: {probe} is a file, not a folder", source=option,
                         field=str(out))
    _probe_writable(probe, out, option)
    if kind is not None and out.is_dir():
        other = folder_kind(out)
        if other is not None and other != kind:
            raise InputError(
                f"holds the outputs of a mixsim {other} ({FOLDER_MARKERS[other]}); writing a "
                f"{kind}'s there would overwrite or mix with them: choose another folder",
                source=option, field=str(out))


def _probe_writable(folder: Path, out: Path, option: str) -> None:
    """Create and remove a temporary folder in ``folder`` (permissions alone can mislead)."""
    try:
        tmp = tempfile.mkdtemp(prefix=".mixsim-probe-", dir=folder)
    except OSError as err:
        reason = os.strerror(err.errno) if err.errno else str(err)
        where = "" if folder == out else f" (in {folder})"
        raise InputError(f"cannot be written{where}: {reason}", source=option,
                         field=str(out)) from None
    os.rmdir(tmp)


class OutDir:
    """An output folder held exclusively by this process (a context manager).

    ``with OutDir(path, "experiment", kind="experiment"):`` checks the folder
    (:func:`check_out_dir`), creates it, and locks it until the block ends; see the module
    docstring. Re-entrant within a process (a command that calls a library function taking the
    same lock).

    Args:
        path: The folder.
        command: The command holding it (written in the lock file, shown to a refused process).
        option: The option that named the folder, for messages.
        kind: The kind of outputs written (see :func:`check_out_dir`).
    """

    def __init__(self, path: str | Path, command: str, *, option: str = "--out",
                 kind: str | None = None):
        self.path = Path(path)
        self.command = command
        self.option = option
        self.kind = kind
        self._key = ""
        self._created: list[Path] = []

    def __enter__(self) -> OutDir:
        """Check, create and lock the folder."""
        check_out_dir(self.path, self.option, self.kind)
        created = []
        p = self.path
        while not p.exists():
            created.append(p)
            p = p.parent
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"cannot be created: {os.strerror(err.errno or 0)}",
                             source=self.option, field=str(self.path)) from None
        self._created = created
        self._key = str(self.path.resolve())
        with _held_lock:
            if self._key in _held:
                _held[self._key][1] += 1
                self._created = []
                return self
        try:
            fd = self._lock()
        except BaseException:
            self._remove_created()
            raise
        with _held_lock:
            _held[self._key] = [fd, 1]
        return self

    def __exit__(self, *exc: object) -> None:
        """Release the lock; remove the lock file and the folder if created and left empty."""
        with _held_lock:
            entry = _held.get(self._key)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] > 0:
                return
            del _held[self._key]
        lock_file = self.path / LOCK_NAME
        try:  # unlink while holding the lock: a waiting process sees another file (_lock)
            lock_file.unlink(missing_ok=True)
        except OSError:
            pass
        os.close(entry[0])
        self._remove_created()

    def _remove_created(self) -> None:
        for p in self._created:  # deepest first
            try:
                p.rmdir()
            except OSError:
                break
        self._created = []

    def _lock(self) -> int:
        """Open and lock ``.mixsim.lock``; return its descriptor."""
        lock_file = self.path / LOCK_NAME
        for _ in range(20):
            try:
                fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as err:
                raise InputError(f"cannot create its lock file {LOCK_NAME}: "
                                 f"{os.strerror(err.errno or 0)}", source=self.option,
                                 field=str(self.path)) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                if err.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                    logger.warning("%s: this file system does not support locks; nothing stops "
                                   "another command from writing there meanwhile", self.path)
                    return fd
                holder = _read_holder(fd)
                os.close(fd)
                if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                raise InputError(
                    f"is in use by another mixsim command ({holder}); wait until it ends, or "
                    "choose another folder", source=self.option, field=str(self.path)) from None
            # the holder may have removed the file between our open and our lock: retry then
            try:
                same = os.fstat(fd).st_ino == os.stat(lock_file).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            stale = _read_holder(fd, raw=True)
            if stale:
                logger.warning("%s: took over the stale lock of %s (that process no longer "
                               "holds it)", self.path, stale)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}, mixsim {self.command}\n".encode(), 0)
            return fd
        raise InputError("its lock file keeps being replaced; is another mixsim command "
                         "starting there?", source=self.option, field=str(self.path))


def _read_holder(fd: int, raw: bool = False) -> str:
    """Return the holder recorded in a lock file (``pid N, mixsim COMMAND``)."""
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    if raw:
        return text
    return text or "pid unknown"


# -- resumable result folders --------------------------------------------------------------------


def fingerprint_of(identity: Mapping[str, Any]) -> str:
    """Return a short hash of an identity (JSON with sorted keys; 16 hex digits)."""
    blob = json.dumps(identity, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, Mapping):
        return {prefix: d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flatten(v, f"{prefix}{k}." if isinstance(v, Mapping) else f"{prefix}{k}"))
    return out


def _names(names: list[str]) -> str:
    return f"{', '.join(names[:3])}{' …' if len(names) > 3 else ''}"


def describe_changes(old: Mapping[str, Any], new: Mapping[str, Any], most: int = 4,
                     named: tuple[str, ...] = ()) -> str:
    """Say briefly what differs between two identities (``changed: years 2 → 3, ...``).

    Each difference is told by its dotted key, with both values when they are scalars; a
    top-level key of ``named`` (a table of named entries, such as an experiment's
    ``scenarios``) by the names of its entries added, removed and changed. At most ``most``
    differences are listed.
    """
    parts = []
    for key in list(new) + [k for k in old if k not in new]:
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key in named and isinstance(a, Mapping) and isinstance(b, Mapping):
            bits = [f"{label} {_names(names)}" for label, names in (
                ("added", [n for n in b if n not in a]), ("removed", [n for n in a if n not in b]),
                ("changed", [n for n in b if n in a and a[n] != b[n]])) if names]
            parts.append(f"{key} " + "; ".join(bits))
            continue
        fa, fb = _flatten(a, f"{key}."), _flatten(b, f"{key}.")
        for k in sorted(k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k)):
            x, y = fa.get(k), fb.get(k)
            name = k.rstrip(".")
            scalar = (int, float, str, bool, type(None))
            parts.append(f"{name} {x} → {y}" if isinstance(x, scalar) and isinstance(y, scalar)
                         else name)
    if not parts:
        return "different fingerprint"
    more = f" and {len(parts) - most} more" if len(parts) > most else ""
    return "changed: " + ", ".join(parts[:most]) + more


@dataclass(frozen=True)
class FolderLayout:
    """What a resumable command keeps in its ``--out`` folder.

    Attributes:
        kind: The kind of outputs (a key of :data:`FOLDER_MARKERS`: the marker file is its value).
        results: Files or folders of stored results, matched to a specification by the marker
            (a folder holding them without a marker is refused: they cannot be matched).
        outputs: Everything ``--force`` removes (the marker, results and derived files).
        noun: What the stored results are called in messages (``runs``, ``points``, ...).
        different: Message when the marker's specification is another one; ``{changes}`` is
            replaced by :func:`describe_changes`.
        named: Top-level keys of the identity told by entry names (see :func:`describe_changes`).
    """

    kind: str
    results: tuple[str, ...]
    outputs: tuple[str, ...]
    noun: str
    different: str
    named: tuple[str, ...] = ()

    @property
    def marker(self) -> str:
        """Name of the marker file."""
        return FOLDER_MARKERS[self.kind]


def read_json_record(path: Path) -> tuple[dict[str, Any], str | None, Mapping[str, Any]]:
    """Read a JSON marker: ``(record, fingerprint, identity)`` (an unreadable one: empty)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    if not isinstance(record, dict):
        record = {}
    return record, record.get("fingerprint"), record.get("identity") or {}


class ResultFolder:
    """A resumable output folder: its marker, the fingerprint of its specification, ``--force``.

    The marker file (:attr:`FolderLayout.marker`) records the specification the stored results
    belong to (its fingerprint and identity). :meth:`check` (read-only) refuses a folder whose
    marker names another specification while it holds results, listing what changed, or a folder
    holding results without a marker; with ``force`` it accepts both and :meth:`clear` removes
    the outputs. :meth:`lock` holds the folder for the command (:class:`OutDir`).

    Args:
        path: The folder.
        layout: What the command keeps there.
        fingerprint: The fingerprint of the specification now.
        identity: The specification now, as a mapping (for the list of changes).
        read: Reads the marker: ``(record, fingerprint, identity)``; default
            :func:`read_json_record`.
        option: The option that named the folder, for messages.
    """

    def __init__(self, path: str | Path, layout: FolderLayout, *, fingerprint: str,
                 identity: Mapping[str, Any], read: Any = read_json_record,
                 option: str = "--out"):
        self.path = Path(path)
        self.layout = layout
        self.fingerprint = fingerprint
        self.identity = identity
        self._read = read
        self.option = option

    def lock(self, command: str, option: str | None = None) -> OutDir:
        """Hold the folder for ``command`` (a context manager, see :class:`OutDir`)."""
        return OutDir(self.path, command, option=option or self.option, kind=self.layout.kind)

    def has_results(self) -> bool:
        """Whether any stored result is there (a non-empty folder, or a file)."""
        for name in self.layout.results:
            p = self.path / name
            if p.is_file() or (p.is_dir() and any(p.iterdir())):
                return True
        return False

    def record(self) -> dict[str, Any] | None:
        """Return the marker's record, or None without a marker (``{}`` when unreadable)."""
        marker = self.path / self.layout.marker
        if not marker.is_file():
            return None
        return self._read(marker)[0]

    def matches(self) -> bool:
        """Whether the marker records the specification now."""
        marker = self.path / self.layout.marker
        return marker.is_file() and self._read(marker)[1] == self.fingerprint

    def check(self, force: bool) -> dict[str, Any] | None:
        """Refuse a folder holding the results of another specification; return its record.

        Returns:
            The marker's record when it records this specification (resume), else None.

        Raises:
            InputError: naming the folder, what changed, and ``--force``.
        """
        marker = self.path / self.layout.marker
        if force:
            return None
        if marker.is_file():
            record, fingerprint, identity = self._read(marker)
            if fingerprint == self.fingerprint:
                return record
            if self.has_results():
                changes = describe_changes(identity, self.identity, named=self.layout.named)
                raise InputError(self.layout.different.format(changes=changes),
                                 source=str(self.path))
            return None
        if self.has_results():
            found = next(n for n in self.layout.results if (self.path / n).exists())
            article = "an" if found[0] in "aeiou" else "a"
            shown = f"a {found}/ folder" if (self.path / found).is_dir() else f"{article} {found}"
            raise InputError(
                f"has {shown} but no {self.layout.marker}, so its {self.layout.noun} cannot be "
                f"matched to this {self.layout.kind}; rerun with --force to discard them, or "
                "choose another --out", source=str(self.path))
        return None

    def clear(self) -> None:
        """Remove what the command wrote there (:attr:`FolderLayout.outputs`), nothing else."""
        for name in self.layout.outputs:
            p = self.path / name
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
