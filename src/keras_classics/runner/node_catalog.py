"""What a task sent to another process needs of the catalog: its node's datasets only.

Kedro's runners send each ``Task`` with the whole catalog. Pickling it costs in
proportion to the pipeline's size for every node, so a pipeline of many small nodes
(a sweep: 8 variants x 14 nodes) pays it ~size² times. Under the ParallelRunner each
of the catalog's in-memory datasets is a ``multiprocessing`` manager proxy, which
reconnects to the manager (with its authentication handshake) when unpickled and again
when collected: on ``boston_kfold_sweep`` (113 nodes) that was ~15 s of the workers'
and ~20 s of the manager's CPU time, most of the run on 2 cores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kedro.io import CatalogProtocol
    from kedro.pipeline.node import Node


def node_catalog(catalog: CatalogProtocol, node: Node) -> CatalogProtocol:
    """A catalog of the same type with only the datasets ``node`` loads, saves or
    confirms (the catalog Kedro's node hooks are documented to get).

    ``AbstractRunner.run`` creates every dataset of the pipeline before running it, so
    these are the run's own dataset objects (shared-memory proxies, versions).
    """
    names = {*node.inputs, *node.outputs, *node.confirms}
    return type(catalog)(datasets={name: catalog.get(name) for name in names})
