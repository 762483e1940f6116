"""The field that groups a task's documents: `metadata: {cluster: FIELD}` in the task YAML (lm-eval's
free-form `metadata` mapping, which lm-eval itself leaves alone). Documents with the same value of
doc[FIELD] (several questions on one passage, an MMLU subject) form one cluster, stored with each
sample row, so the statistics do not treat them as independent. One home for the rule: the type check
of the key, the per-document check at the door, and the value stored (str(doc[FIELD])).
"""

from __future__ import annotations

from typing import Any, Mapping

from evalkit.errors import TaskError

CLUSTER_KEY = "cluster"  # the key inside a task's `metadata:` mapping
FIX_HINT = ("Give every evaluation document that field (or fix the name in `metadata: {cluster: FIELD}`, "
            "or remove the key if the documents are independent).")


def cluster_key_problem(metadata: Any) -> str | None:
    """What is wrong with metadata.cluster (it must name a document field), or None."""
    if not isinstance(metadata, Mapping) or CLUSTER_KEY not in metadata:
        return None
    field = metadata[CLUSTER_KEY]
    if not isinstance(field, str) or not field.strip():
        return f"must name a document field (e.g. `cluster: subject`), not {field!r}"
    return None


def cluster_field(metadata: Any) -> str | None:
    """The document field named by a task's metadata.cluster, or None when it names none."""
    if not isinstance(metadata, Mapping):
        return None
    field = metadata.get(CLUSTER_KEY)
    return field if isinstance(field, str) and field.strip() else None


def task_cluster_field(task: Any) -> str | None:
    """The cluster field of a loaded lm-eval task (its config's metadata), or None."""
    return cluster_field(getattr(getattr(task, "config", None), "metadata", None))


def cluster_problem(doc: Any, field: str) -> str | None:
    """Why `doc` has no cluster value in `field` (missing, null or empty), or None when it has one."""
    if not isinstance(doc, Mapping) or field not in doc:
        held = f"its fields: {_shortened(', '.join(map(str, doc)))}" if isinstance(doc, Mapping) else \
            f"it is {type(doc).__name__}, not a mapping of fields"
        return f"key 'metadata.cluster' names the document field '{field}', which this document lacks ({held})"
    if doc[field] is None or str(doc[field]) == "":
        # a JSON or CSV dataset fills a field some rows lack with null; "" would read back as none from a CSV export
        return (f"key 'metadata.cluster' names the document field '{field}', which has no value (null, empty or "
                "absent) in this document")
    return None


def document_cluster(doc: Any, field: str | None, where: str) -> str | None:
    """The cluster of one document: str(doc[field]); None when the task names no field. A document
    without the field is refused at the door (cluster_problem); `where` names it if one gets here."""
    if field is None:
        return None
    problem = cluster_problem(doc, field)
    if problem:
        raise TaskError(f"{where}: {problem}.", hint=FIX_HINT)
    return str(doc[field])


def _shortened(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."
