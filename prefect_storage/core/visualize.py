"""``Flow.visualize``: draw a flow with graphviz (the ``viz`` extra)."""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any

from prefect_storage.exceptions import BackendNotInstalledError

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow
    from prefect_storage.core.state import State

__all__ = ["visualize"]


def _graphviz() -> Any:
    try:
        import graphviz
    except ImportError:
        raise BackendNotInstalledError(
            "This feature requires graphviz.\nTry re-installing prefect_storage with "
            "`pip install 'prefect-storage[viz]'` (and the Graphviz `dot` program to render files)."
        ) from None
    return graphviz


def visualize(
    flow: Flow,
    flow_state: State | None = None,
    filename: str | None = None,
    format: str | None = None,
    horizontal: bool = False,
) -> Any:
    """Build a ``graphviz.Digraph`` of ``flow``: tasks are nodes (boxes labelled
    ``<map>`` for mapped tasks), edges are labelled with their argument names and
    dashed when mapped. With ``flow_state`` nodes are filled with each state's colour
    (mapped tasks are drawn once per child). With ``filename`` the graph is rendered
    there (``format`` default ``pdf``); otherwise it is returned (and shown inline in
    IPython)."""
    graphviz = _graphviz()
    graph = graphviz.Digraph()
    if horizontal:
        graph.graph_attr.update(rankdir="LR")

    def node_id(task: Any) -> str:
        return str(id(task))

    mapped_tasks = {e.downstream_task for e in flow.edges if e.mapped}
    states = flow_state.result if flow_state is not None and isinstance(flow_state.result, dict) else {}
    for task in flow.sorted_tasks():
        name = f"{task.name} <map>" if task in mapped_tasks else task.name
        shape = "box" if task in mapped_tasks else "ellipse"
        state = states.get(task)
        if state is not None and task in mapped_tasks and getattr(state, "map_states", None):
            for i, child in enumerate(state.map_states):
                graph.node(f"{node_id(task)}{i}", name, shape=shape, color=child.color + "80", style="filled", colorscheme="svg")
        elif state is not None:
            graph.node(node_id(task), name, shape=shape, color=state.color + "80", style="filled", colorscheme="svg")
        else:
            graph.node(node_id(task), name, shape=shape)
    for edge in flow.edges:
        style = "dashed" if edge.mapped else None
        state = states.get(edge.downstream_task)
        upstream_state = states.get(edge.upstream_task)
        if edge.mapped and state is not None and getattr(state, "map_states", None):
            for i in range(len(state.map_states)):
                up_is_mapped = upstream_state is not None and getattr(upstream_state, "map_states", None)
                up = f"{node_id(edge.upstream_task)}{i}" if up_is_mapped else node_id(edge.upstream_task)
                graph.edge(up, f"{node_id(edge.downstream_task)}{i}", edge.key, style=style)
        else:
            graph.edge(node_id(edge.upstream_task), node_id(edge.downstream_task), edge.key, style=style)
    if filename:
        _render(graphviz, graph, filename, view=False, format=format, cleanup=True)
        return graph
    try:
        from IPython import get_ipython  # type: ignore[import-not-found]

        if get_ipython() is not None and "IPKernelApp" in get_ipython().config:
            from IPython.display import display  # type: ignore[import-not-found]

            display(graph)
            return graph
    except ImportError:
        pass
    with tempfile.NamedTemporaryFile(delete=False) as tmp:
        _render(graphviz, graph, tmp.name, view=True, format=format)
    os.unlink(tmp.name)
    return graph


def _render(graphviz: Any, graph: Any, filename: str, **kwargs: Any) -> None:
    try:
        graph.render(filename, **kwargs)
    except graphviz.ExecutableNotFound:
        raise BackendNotInstalledError(
            "Rendering a flow needs the Graphviz `dot` program on PATH (e.g. `apt-get install graphviz`); "
            "without it, call flow.visualize() in a notebook or use the returned graph's `.source`."
        ) from None
