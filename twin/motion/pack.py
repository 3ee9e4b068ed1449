"""A compact transport form of a folder of robot motions.

For carrying a built motion library to a machine that cannot build it (a lent accelerator
machine takes 64 MiB per call; the training library is 190 MB). A clip whose body poses and
velocities are the forward kinematics and finite differences of its joints and root (every
clip twin retargets or generates) travels as joints and root only; any other clip (motion
capture with its own velocities) keeps every array. Float arrays travel as float32; the
archive is ``tar.xz``. ``unpack`` refills the dropped arrays by FK and writes float64 clips
that ``load_robot_motion`` reads like the originals (bodies within 1e-5 m).

    python -m twin.motion.pack pack data/motion_library/train lib.tar.xz
    python -m twin.motion.pack unpack lib.tar.xz /tmp/train
"""

from __future__ import annotations

import argparse
import io
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DERIVED = ("joint_vel", "body_pos_w", "body_quat_wxyz", "body_lin_vel_w", "body_ang_vel_w")
_MARK = "_pack_fk"  # present in a packed clip whose DERIVED arrays were dropped
FK_TOLERANCE_M = 1e-6


@dataclass(frozen=True)
class PackReport:
    clips: int
    fk_refilled: int  # clips that travel as joints and root only
    bytes_in: int
    bytes_out: int


def _fk(z: dict):
    from twin.retarget.kinematics import robot_motion_from_qpos

    return robot_motion_from_qpos(str(z["robot"]), np.asarray(z["root_pos_w"], np.float64),
                                  np.asarray(z["root_quat_wxyz"], np.float64),
                                  np.asarray(z["joint_pos"], np.float64), float(z["fps"]))


def is_fk_derived(z: dict, tol_m: float = FK_TOLERANCE_M) -> bool:
    """Whether the clip's bodies and velocities are FK and finite differences of its joints
    (so dropping them loses nothing)."""
    m = _fk(z)
    if tuple(m.body_names) != tuple(np.asarray(z["body_names"]).tolist()):
        return False
    close = lambda key: float(np.abs(getattr(m, key) - z[key]).max()) <= tol_m
    return all(close(k) for k in ("body_pos_w", "body_lin_vel_w", "joint_vel"))


def _packed(z: dict) -> dict:
    drop = DERIVED if is_fk_derived(z) else ()
    out = {k: (z[k].astype(np.float32) if z[k].dtype == np.float64 and z[k].ndim else z[k])
           for k in z if k not in drop}
    if drop:
        out[_MARK] = np.array(1)
    return out


def pack(src: str | Path, archive: str | Path) -> PackReport:
    """Pack every ``*.npz`` of folder ``src`` into ``archive`` (tar.xz)."""
    files = sorted(Path(src).glob("*.npz"))
    if not files:
        raise FileNotFoundError(f"{src}: no .npz clips to pack")
    refilled, size_in = 0, 0
    with tarfile.open(archive, "w:xz") as tar:
        for f in files:
            with np.load(f) as npz:
                z = {k: npz[k] for k in npz.files}
            try:
                packed = _packed(z)
            except KeyError as exc:
                raise ValueError(f"{f}: no field {exc} (expected a twin RobotMotion .npz)") from exc
            refilled += _MARK in packed
            size_in += f.stat().st_size
            buf = io.BytesIO()
            np.savez(buf, **packed)
            info = tarfile.TarInfo(f.name)
            info.size = buf.tell()
            buf.seek(0)
            tar.addfile(info, buf)
    return PackReport(len(files), refilled, size_in, Path(archive).stat().st_size)


def unpack(archive: str | Path, dst: str | Path) -> int:
    """Write the clips of ``archive`` into folder ``dst`` as full float64 clips; returns how
    many."""
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    n = 0
    with tarfile.open(archive, "r:xz") as tar:
        for member in tar.getmembers():
            name = Path(member.name).name
            if not member.isfile() or not name.endswith(".npz") or name != member.name:
                raise ValueError(f"{archive}: member {member.name!r} is not a packed clip")
            with np.load(io.BytesIO(tar.extractfile(member).read())) as npz:
                z = {k: npz[k] for k in npz.files}
            z = {k: (v.astype(np.float64) if v.dtype == np.float32 else v) for k, v in z.items()}
            if z.pop(_MARK, None) is not None:
                try:
                    m = _fk(z)
                except KeyError as exc:
                    raise ValueError(f"{archive}: {name} has no field {exc}") from exc
                z["root_quat_wxyz"] = m.root_quat_wxyz
                z.update({k: getattr(m, k) for k in DERIVED})
            np.savez(dst / name, **z)
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m twin.motion.pack", description=__doc__.split(
        "\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("pack", help="folder of clips -> tar.xz")
    a.add_argument("src")
    a.add_argument("archive")
    b = sub.add_parser("unpack", help="tar.xz -> folder of clips")
    b.add_argument("archive")
    b.add_argument("dst")
    args = p.parse_args(argv)
    try:
        if args.cmd == "pack":
            r = pack(args.src, args.archive)
            print(f"packed {r.clips} clips ({r.fk_refilled} as joints and root only): "
                  f"{r.bytes_in / 1e6:.1f} MB -> {r.bytes_out / 1e6:.1f} MB")
        else:
            print(f"unpacked {unpack(args.archive, args.dst)} clips into {args.dst}")
    except (OSError, ValueError, tarfile.TarError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
