"""Group media into candidate series: near-duplicates and same-camera pictures.

New material that comes as a set — several near-identical frames of one scene, or many
pictures from one camera body — is what victim identification looks at first (issue 3's
priority rule). This module is pure: give it pairs and camera identities, get clusters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        parent.setdefault(x, x)
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def clusters(
    members: Iterable[int],
    near_pairs: Iterable[tuple[int, int]],
    cameras: Mapping[int, str] | None = None,
) -> dict[int, int]:
    """Map each member to its cluster's smallest member id.

    Two media are in one cluster when a chain of near-duplicate pairs joins them, or when
    they share a camera identity (EXIF make|model|serial). Pairs naming non-members are
    ignored, so callers may pass every pair of the workspace.
    """
    uf = _UnionFind()
    ids = set(members)
    for m in ids:
        uf.find(m)
    for a, b in near_pairs:
        if a in ids and b in ids:
            uf.union(a, b)
    by_camera: dict[str, int] = {}
    for m, camera in (cameras or {}).items():
        if m not in ids:
            continue
        first = by_camera.setdefault(camera, m)
        if first != m:
            uf.union(first, m)
    return {m: uf.find(m) for m in ids}


def cluster_sizes(assignment: Mapping[int, int]) -> dict[int, int]:
    """Cluster root -> number of members."""
    sizes: dict[int, int] = {}
    for root in assignment.values():
        sizes[root] = sizes.get(root, 0) + 1
    return sizes
