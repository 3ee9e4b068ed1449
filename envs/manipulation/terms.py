"""Success terms of twin's manipulation tasks: each a small predicate of measured quantities
(distances in m, speeds in m/s, the gripper's measured open fraction) with its thresholds
in a typed config. The configs here are schemas without values; each task class holds its
preset (``success_default``) and takes another as ``success=`` (a config or a dict of
fields to change). The reward of these tasks is the success flag (1.0 on success, else 0.0).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np


@dataclass(frozen=True)
class LiftSuccess:
    """Object lifted and held: centre >= ``lift_m`` above its resting height and within
    ``held_radius_m`` of the tool-centre point (held, not knocked up)."""

    lift_m: float
    held_radius_m: float


@dataclass(frozen=True)
class PlaceSuccess:
    """Object resting on a support: centre within ``xy_radius_m`` of the support's centre in
    xy, within ``dz_tol_m`` of its resting height, slower than ``static_speed_mps``, and
    the gripper open wider than ``released_open_fraction`` (let go)."""

    xy_radius_m: float
    dz_tol_m: float
    static_speed_mps: float
    released_open_fraction: float


@dataclass(frozen=True)
class StackSuccess:
    """Object A on object B: A's centre within ``xy_radius_m`` of B's in xy and
    ``height_m`` +- ``height_tol_m`` above it, A static, gripper released."""

    xy_radius_m: float
    height_m: float
    height_tol_m: float
    static_speed_mps: float
    released_open_fraction: float


@dataclass(frozen=True)
class MoveNearSuccess:
    """A moved near B: A's centre within ``near_m`` of B's in xy, A resting (within
    ``rest_tol_m`` of its table height, static), every other object moved less than
    ``others_moved_max_m`` in xy, gripper released."""

    near_m: float
    rest_tol_m: float
    others_moved_max_m: float
    static_speed_mps: float
    released_open_fraction: float


@dataclass(frozen=True)
class DrawerOpenSuccess:
    """The drawer is out by at least ``open_fraction`` of its travel."""

    open_fraction: float


@dataclass(frozen=True)
class DrawerClosedSuccess:
    """The drawer's opening is at most ``max_opening_m``."""

    max_opening_m: float


def coerce_success(success, preset, task: str):
    """The success config of a task: its ``preset`` (None), the preset with some fields
    changed (a dict), or a config of the preset's type."""
    if success is None:
        return preset
    if isinstance(success, dict):
        names = [f.name for f in fields(preset)]
        unknown = sorted(set(success) - set(names))
        if unknown:
            raise ValueError(f"{task} success: unknown fields {unknown}; expected some of "
                             f"{names}")
        return replace(preset, **success)
    if not isinstance(success, type(preset)):
        raise TypeError(f"{task} success: expected a {type(preset).__name__} or a dict of its "
                        f"fields, got {type(success).__name__}")
    return success


def released(gripper_open: np.ndarray, open_fraction: float) -> np.ndarray:
    """(N,) gripper open wider than ``open_fraction`` (1 open, 0 closed)."""
    return gripper_open > open_fraction


def lifted_and_held(lift_m: np.ndarray, tcp_dist_m: np.ndarray, cfg: LiftSuccess) -> np.ndarray:
    return (lift_m >= cfg.lift_m) & (tcp_dist_m < cfg.held_radius_m)


def placed(xy_dist_m: np.ndarray, dz_m: np.ndarray, gripper_open: np.ndarray,
           cfg: PlaceSuccess) -> np.ndarray:
    """Placed and released; the caller adds the static check (``static``)."""
    return ((xy_dist_m < cfg.xy_radius_m) & (dz_m < cfg.dz_tol_m)
            & released(gripper_open, cfg.released_open_fraction))


def stacked(xy_dist_m: np.ndarray, dz_m: np.ndarray, gripper_open: np.ndarray,
            cfg: StackSuccess) -> np.ndarray:
    """Stacked and released; the caller adds the static check (``static``)."""
    return ((xy_dist_m < cfg.xy_radius_m) & (np.abs(dz_m - cfg.height_m) < cfg.height_tol_m)
            & released(gripper_open, cfg.released_open_fraction))


def moved_near(xy_dist_m: np.ndarray, rest_dz_m: np.ndarray, others_moved_m: np.ndarray,
               gripper_open: np.ndarray, cfg: MoveNearSuccess) -> np.ndarray:
    """Near, resting, others in place, released; the caller adds the static check."""
    return ((xy_dist_m < cfg.near_m) & (rest_dz_m < cfg.rest_tol_m)
            & (others_moved_m < cfg.others_moved_max_m)
            & released(gripper_open, cfg.released_open_fraction))


def static(speed_mps: np.ndarray, static_speed_mps: float) -> np.ndarray:
    return speed_mps < static_speed_mps


def drawer_open(opening_m: np.ndarray, travel_m: float, cfg: DrawerOpenSuccess) -> np.ndarray:
    return opening_m >= cfg.open_fraction * travel_m


def drawer_closed(opening_m: np.ndarray, cfg: DrawerClosedSuccess) -> np.ndarray:
    return opening_m <= cfg.max_opening_m
