"""Which version of a hub model is (or was) used: its commit.

transformers 5 no longer records the commit on the config (`config._commit_hash`), so a hub id and a
branch name alone would give every version of a model one fingerprint, and a run after a new push
would be answered with the old version's numbers. The commit is the name of the snapshot folder the
HF cache holds for the revision (`snapshots/<sha>`, found through `refs/<branch>`), or, online, what
the Hub says the revision is now. A snapshot whose folder is not a commit is hashed like a local
checkpoint directory.
"""

from __future__ import annotations

import re
from pathlib import Path

_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def hub_commit(repo_id: str, revision: str | None, *, ask_hub_first: bool) -> str | None:
    """The commit (or, failing that, a content fingerprint) of `repo_id` at `revision`; None when
    neither the HF cache nor the Hub can say. `ask_hub_first`: before loading, what the Hub serves
    now is what will be loaded (the cache's ref may be stale); after loading, the cache holds it."""
    if ask_hub_first:
        return _hub_sha(repo_id, revision) or _cached_commit(repo_id, revision)
    return _cached_commit(repo_id, revision) or _hub_sha(repo_id, revision)


def _cached_commit(repo_id: str, revision: str | None) -> str | None:
    snapshot = cached_snapshot(repo_id, revision)
    if snapshot is None:
        return None
    if _COMMIT.match(snapshot.name):
        return snapshot.name
    from evalkit.models.fingerprint import directory_fingerprint

    return f"content:{directory_fingerprint(snapshot)}"


def cached_snapshot(repo_id: str, revision: str | None) -> Path | None:
    """The HF cache's snapshot folder for the revision (a branch through its ref), or None."""
    from huggingface_hub import snapshot_download

    try:
        found = snapshot_download(repo_id, revision=revision, local_files_only=True)
    except Exception:  # not cached (LocalEntryNotFoundError), an unreadable ref, a malformed id
        return None
    path = Path(str(found))
    return path if path.is_dir() else None


def _hub_sha(repo_id: str, revision: str | None) -> str | None:
    """The commit the Hub serves for the revision now; None offline or when the Hub cannot be asked."""
    from huggingface_hub import HfApi, constants

    offline = getattr(constants, "is_offline_mode", None)
    if (offline() if callable(offline) else constants.HF_HUB_OFFLINE):
        return None
    try:
        sha = HfApi().model_info(repo_id, revision=revision, timeout=10).sha
    except Exception:  # no network, gated or private without a token, a removed repository
        return None
    return sha if isinstance(sha, str) and sha else None
