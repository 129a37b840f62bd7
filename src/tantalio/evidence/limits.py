"""Limits that keep a hostile source from exhausting the examiner's machine.

Every limit is configuration (STYLE.md 5): the defaults suit seized phones and PCs, an examiner
who meets a legitimate archive above them raises the limit for that source. A file that trips a
limit is still listed, with `open=None` and an `error` naming the limit, so the report shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30


@dataclass(frozen=True, slots=True)
class EvidenceLimits:
    """Bounds on archive expansion and on the disk-image listing process.

    max_depth: archives nested more deeply than this are listed but not expanded. An archive
        given as the source, or found in a folder or disk image, is depth 1.
    max_ratio / ratio_min_size: a member whose uncompressed size is at least `ratio_min_size`
        and more than `max_ratio` times its compressed size is a zip bomb; small members are
        never judged by ratio (a 10 KB run of spaces is harmless).
    max_member_size: largest single member expanded.
    max_total_size: uncompressed bytes of all archive members of one source together.
    max_members: members listed per archive; the rest are reported on the archive itself.
    buffer_size: a nested zip or 7z (which need random access) no larger than this is held in
        memory; a larger one is spooled to the private temp area.
    temp_dir: parent of the private temp area (default: the system temp directory).
    expand_archives: False lists archives as plain files.
    disk_timeout: seconds The Sleuth Kit may take over one step of a disk image (listing a
        folder, opening or reading a file) before its listing process is stopped: a damaged
        file system can make libtsk loop forever in C code (docs/decisions/evidence.md).
        Raise it for evidence on slow storage; it never counts time the consumer spends.
    disk_memory: address-space cap (bytes) of that process; None for no cap.
    isolate_disks: False lists disk images in this process (no time limit, no cap): for
        benchmarks and debugging only.
    """

    max_depth: int = 4
    max_ratio: float = 100.0
    ratio_min_size: int = 1 * MIB
    max_member_size: int = 64 * GIB
    max_total_size: int = 1024 * GIB
    max_members: int = 1_000_000
    buffer_size: int = 32 * MIB
    temp_dir: str | None = None
    expand_archives: bool = True
    disk_timeout: float = 60.0
    disk_memory: int | None = 8 * GIB
    isolate_disks: bool = True

    def ratio_error(self, size: int, compressed: int | None) -> str | None:
        """Say why a member of `size` bytes packed into `compressed` is a bomb, else None."""
        if compressed is None or size < self.ratio_min_size:
            return None
        ratio = size / max(compressed, 1)
        if ratio > self.max_ratio:
            return (
                f"zip bomb: compression ratio {ratio:,.0f}:1 exceeds the limit "
                f"{self.max_ratio:,.0f}:1 ({size:,} bytes from {compressed:,})"
            )
        return None

    def size_error(self, size: int) -> str | None:
        if size > self.max_member_size:
            return (
                f"member of {size:,} bytes exceeds the member size limit {self.max_member_size:,}"
            )
        return None
