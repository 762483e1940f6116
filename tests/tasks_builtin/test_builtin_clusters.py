"""Built-in tasks whose documents are grouped name the grouping field (`metadata: {cluster: FIELD}`),
loaded the way `evalkit run` loads them; every evaluation document has it; the others name none."""

from __future__ import annotations

import pytest

from evalkit.tasks.clusters import cluster_problem, document_cluster, task_cluster_field
from tests.tasks_builtin.shipped import NAMES
from tests.tasks_builtin.shipped import task as built

# task -> (field, number of clusters in its evaluation split)
CLUSTERED = {"hellaswag": ("source_id", 302), "boolq": ("passage", 2938), "cola": ("source", 17), "bbq": ("template", 150),
             "winogender_all": ("template", 120)}


@pytest.mark.parametrize("name", sorted(CLUSTERED))
def test_grouped_tasks_name_a_field_every_document_has(name: str) -> None:
    field, count = CLUSTERED[name]
    task = built(name)
    assert task_cluster_field(task) == field
    docs = task.eval_docs
    assert [i for i, doc in enumerate(docs) if cluster_problem(doc, field)] == []
    clusters = {document_cluster(doc, field, name) for doc in docs}
    assert len(clusters) == count and len(clusters) < len(docs)


@pytest.mark.parametrize("name", [n for n in NAMES if n not in CLUSTERED])
def test_tasks_of_independent_documents_name_no_cluster(name: str) -> None:
    assert task_cluster_field(built(name)) is None
