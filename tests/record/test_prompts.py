"""Visual action prompts: keypoints land on the robot, replay equals live, datasets round-trip."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import twin  # noqa: F401  (configures GL before mujoco)
from twin.record import check_dataset, load_episode, load_info, record_vector_env
from twin.record.prompts import (
    VIS_ABSENT,
    VIS_OCCLUDED,
    VIS_VISIBLE,
    CameraObservations,
    DepthEncoding,
    PromptGenerator,
    draw_skeleton,
    load_prompts_metadata,
    prompts_from_state,
    write_prompts_metadata,
)
from twin.record.prompts.observation import depth_encoding_of
from twin.robots.keypoints import (
    OPENPOSE_HAND_EDGE_COLORS,
    KeypointTable,
    dex3_hand,
    keypoint_robots,
    keypoint_table,
)
from twin.scene.config import scene_config_from_dict
from twin.sim import make_backend
from twin.sim.robot_state import default_qpos

SIZE = 128
PROFILE = "fast"

G1_CAMERAS = [
    {"name": "front", "pos": [2.4, -1.5, 1.3], "lookat": [0, 0, 0.7], "fovy": 45},
    {"name": "side", "pos": [0.3, 2.6, 1.0], "lookat": [0, 0, 0.6], "fovy": 45},
    {"name": "left_hand", "pos": [0.75, 0.5, 1.0], "lookat": [0.25, 0.2, 0.8], "fovy": 40},
    {"name": "right_hand", "pos": [0.75, -0.5, 1.0], "lookat": [0.25, -0.2, 0.8], "fovy": 40},
]
ARM_CAMERAS = [
    {"name": "front", "pos": [1.6, 0.9, 1.0], "lookat": [0.3, 0, 0.35], "fovy": 50},
    {"name": "gripper", "pos": [0.9, -0.4, 0.9], "lookat": [0.45, 0, 0.55], "fovy": 35},
]


def _backend(robot: str):
    cams = G1_CAMERAS if robot.startswith("g1") else ARM_CAMERAS
    cfg = scene_config_from_dict(
        {"name": f"prompts_{robot}", "robot": robot,
         "cameras": [dict(c, width=SIZE, height=SIZE) for c in cams]}, source="test_prompts")
    return make_backend(cfg, render_profile=PROFILE)


def _random_poses(backend, n: int, seed: int) -> list[np.ndarray]:
    """The default pose, then joints moved by up to 30 % of their half range."""
    spec = backend.scene.robot
    q0 = default_qpos(backend, spec)
    idx = backend.joint_qpos_index(spec.joint_names)
    lim = backend.joint_limits(spec.joint_names)
    lo = np.where(np.isfinite(lim[:, 0]), lim[:, 0], -1.0)
    hi = np.where(np.isfinite(lim[:, 1]), lim[:, 1], 1.0)
    rng = np.random.default_rng(seed)
    poses = [q0]
    for _ in range(n - 1):
        q = q0.copy()
        q[idx] = np.clip(q0[idx] + rng.uniform(-0.3, 0.3, idx.size) * (hi - lo) / 2, lo, hi)
        poses.append(q)
    return poses


# --- tables ----------------------------------------------------------------------------------

@pytest.mark.parametrize("robot", keypoint_robots())
def test_every_table_binds_to_its_robot_model(robot):
    from twin.record.prompts import BoundKeypoints

    cfg = scene_config_from_dict({"name": "t", "robot": robot, "cameras": []}, source="t")
    backend = make_backend(cfg)
    table = keypoint_table(robot)
    bound = BoundKeypoints.bind(table, backend, backend.scene.robot.root_body_name)
    assert len(set(table.names)) == len(table)
    p = bound.world_positions(backend, 0)
    assert np.all(np.isfinite(p)) and np.all(p[~bound.present] == 0)
    # every present keypoint of the robot is within 2 m of its root (no stray offsets)
    root = backend.body_pos_w(backend.body_index([backend.scene.robot.root_body_name]), [0])[0, 0]
    assert np.linalg.norm(p[bound.present] - root, axis=1).max() < 2.0
    backend.close()


def test_dex3_hands_follow_openpose_layout():
    t = keypoint_table("g1_dex3")
    assert len(t) == 17 + 21 + 21
    hand = dex3_hand("left")
    assert [k.name for k in hand.keypoints][:5] == [
        "wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip"]
    assert [k.present for k in hand.keypoints] == [True] * 13 + [False] * 8  # no ring, pinky
    assert hand.edges[:5] == ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5))
    assert hand.edge_colors[0] == (255, 0, 0)  # OpenPose: hue 0 for the first thumb bone


# --- keypoints on the agent --------------------------------------------------------------------

@pytest.mark.parametrize("robot,poses", [("g1_dex3", 4), ("panda", 6), ("panda_2f85", 4)])
def test_visible_keypoints_fall_on_the_agents_segmentation(robot, poses, record_property):
    backend = _backend(robot)
    cams = list(backend.camera_names)
    gen = PromptGenerator(backend, cams, SIZE, SIZE)
    bound = gen.bound
    counted = on_agent = on_own = 0
    per_camera = {}
    for q in _random_poses(backend, poses, seed=0):
        for cam, p in gen.from_state(q).items():
            assert p.visibility[~bound.present].tolist() == [VIS_ABSENT] * int(
                (~bound.present).sum())
            col = np.floor(p.keypoints_uv[:, 0]).astype(int).clip(0, SIZE - 1)
            row = np.floor(p.keypoints_uv[:, 1]).astype(int).clip(0, SIZE - 1)
            seen = p.segmentation[row, col]
            vis = (p.visibility == VIS_VISIBLE) & bound.on_surface
            agent = np.isin(seen, bound.robot_body_ids)
            assert np.array_equal(agent, p.mask[row, col])
            c = per_camera.setdefault(cam, [0, 0, 0])
            c[0] += vis.sum()
            c[1] += (vis & agent).sum()
            c[2] += (vis & (seen == bound.body_ids)).sum()
            # occluded keypoints have something nearer than themselves at their pixel
            occl = np.flatnonzero(p.visibility == VIS_OCCLUDED)
            assert all(seen[i] not in bound.neighbour_ids[i] for i in occl)
    for cam, (n, a, o) in per_camera.items():
        record_property(f"{robot}/{cam}", f"{a}/{n} on agent, {o}/{n} own body")
        counted, on_agent, on_own = counted + n, on_agent + a, on_own + o
    rate = on_agent / counted
    print(f"{robot}: {counted} visible keypoints, on agent {rate:.4f}, own body "
          f"{on_own / counted:.4f}; per camera {per_camera}")
    assert counted >= 0.3 * poses * len(cams) * bound.on_surface.sum()
    assert rate >= 0.99, per_camera
    backend.close()


# --- drawing -----------------------------------------------------------------------------------

def test_skeleton_drawing_is_exact_and_uses_openpose_hand_colours():
    table = KeypointTable("hand", (dex3_hand("left"),))
    uv = np.zeros((21, 2))
    uv[:5] = [[10.2, 60.7], [30.5, 50.1], [45.0, 40.0], [55.0, 30.0], [62.9, 20.3]]
    uv[5:13] = np.column_stack([np.linspace(20, 100, 8), np.linspace(80, 110, 8)])
    depth = np.full(21, 1.0)
    present = np.array([k.present for k in table.keypoints])
    a = draw_skeleton(table, uv, depth, present, 128, 128)
    b = draw_skeleton(table, uv.copy(), depth.copy(), present, 128, 128)
    assert np.array_equal(a, b)
    colours = {tuple(c) for c in a.reshape(-1, 3)}
    assert colours <= {(0, 0, 0), (0, 0, 255), *OPENPOSE_HAND_EDGE_COLORS}
    # the middle of the thumb's second bone carries edge 1's hue
    mid = ((uv[1] + uv[2]) / 2).astype(int)
    assert tuple(a[mid[1], mid[0]]) == OPENPOSE_HAND_EDGE_COLORS[1]
    # a keypoint behind the camera takes its edges with it
    depth[4] = -1.0
    c = draw_skeleton(table, uv, depth, present, 128, 128)
    tip = uv[4].astype(int)
    assert a[tip[1], tip[0]].any() and not c[tip[1], tip[0]].any()


def test_depth_encoding_round_trip_without_compression():
    enc = DepthEncoding(0.1, 5.1)
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.1, 5.1, (32, 32))
    mask = rng.random((32, 32)) > 0.3
    img = enc.encode(depth, mask)
    assert img.dtype == np.uint8 and img.shape == (32, 32, 3)
    assert np.all(img[~mask] == 0) and np.all(img[mask] >= 1)
    back = enc.decode(img)
    assert np.abs(back[mask] - depth[mask]).max() <= enc.step_m / 2 + 1e-6
    assert np.all(back[~mask] == 0)


# --- live recording, replay, dataset round trip ----------------------------------------------

@pytest.fixture(scope="module")
def reach_dataset(tmp_path_factory):
    """Two 6-step PandaReach episodes with prompts at 64 px, plus the live observations."""
    root = tmp_path_factory.mktemp("prompts") / "ds"
    envs = gym.make_vec("twin/PandaReach-v0", num_envs=2, vectorization_mode="vector_entry_point",
                        max_episode_steps=6)
    wrapped = CameraObservations(envs, ["front"], 64, 64, prompts=True)
    live: list[dict[str, np.ndarray]] = []

    class Recording(gym.vector.VectorWrapper):
        def reset(self, **kw):
            obs, info = self.env.reset(**kw)
            live.append(obs)
            return obs, info

        def step(self, a):
            out = self.env.step(a)
            live.append(out[0])
            return out

    rec_env = Recording(wrapped)
    rec_env.single_observation_space = wrapped.single_observation_space
    rng = np.random.default_rng(0)
    saved = record_vector_env(
        rec_env, lambda obs: rng.uniform(-1, 1, (2, 7)).astype(np.float32), root,
        num_episodes=2, task="reach", seed=3, robot_type="panda", **wrapped.recorder_kwargs())
    write_prompts_metadata(root, wrapped)
    scene = wrapped.observer.backend.scene.config
    wrapped.close()
    return root, saved, live, scene


def test_skeleton_from_logged_states_equals_the_live_one(reach_dataset):
    root, saved, live, scene = reach_dataset
    replay = make_backend(scene, render_profile=PROFILE)
    gen = PromptGenerator(replay, ["front"], 64, 64)
    live_qpos = np.concatenate([o["sim.qpos"] for o in live])
    live_skel = np.concatenate([o["prompts.front.skeleton"] for o in live])
    matched = 0
    for e in range(len(saved)):
        ep = load_episode(root, e, load_videos=False)
        for t in range(ep.length):
            q = ep.data["observation.sim.qpos"][t]
            k = int(np.flatnonzero((live_qpos == q).all(axis=1))[0])
            p = gen.from_state(q)["front"]
            assert np.array_equal(p.skeleton, live_skel[k])
            assert np.array_equal(p.keypoints_uv, ep.data["observation.prompts.front.keypoints"][t])
            assert np.array_equal(p.keypoint_depth,
                                  ep.data["observation.prompts.front.keypoint_depth"][t])
            matched += 1
    assert matched == sum(s.length for s in saved) == 12
    # the one-call form gives the same as the generator
    one = prompts_from_state(replay, live_qpos[0], "front", 64, 64)
    assert np.array_equal(one.skeleton, live_skel[0])
    replay.close()


def test_prompt_dataset_round_trip(reach_dataset):
    root, _saved, live, _ = reach_dataset
    info = check_dataset(root, decode_videos=True)
    f = load_info(root).features
    k = len(keypoint_table("panda"))
    assert f["observation.prompts.front.skeleton"].dtype == "video"
    assert f["observation.prompts.front.keypoints"].shape == (k, 2)
    assert f["observation.prompts.front.visibility"].names == keypoint_table("panda").names
    assert f["observation.cameras.front.intrinsics"].shape == (3, 3)
    assert f["observation.cameras.front.world_from_camera"].shape == (4, 4)
    assert info.total_episodes == 2
    meta = load_prompts_metadata(root)
    assert meta["keypoints"]["names"] == list(keypoint_table("panda").names)
    enc = depth_encoding_of(meta, "front")

    ep = load_episode(root, 0)
    live_by_qpos = {o["sim.qpos"][i].tobytes(): {kk: v[i] for kk, v in o.items()}
                    for o in live for i in range(2)}
    mask_agree, depth_err = [], []
    for t in range(ep.length):
        obs = live_by_qpos[ep.data["observation.sim.qpos"][t].tobytes()]
        np.testing.assert_array_equal(ep.data["observation.prompts.front.visibility"][t],
                                      obs["prompts.front.visibility"])
        np.testing.assert_array_equal(ep.data["observation.cameras.front.intrinsics"][t],
                                      obs["cameras.front.intrinsics"])
        np.testing.assert_array_equal(ep.data["observation.cameras.front.world_from_camera"][t],
                                      obs["cameras.front.world_from_camera"])
        true_mask = obs["prompts.front.mask"][..., 0] > 127
        mask = ep.frames["observation.prompts.front.mask"][t].mean(axis=2) > 127
        mask_agree.append((mask == true_mask).mean())
        true_depth = enc.decode(obs["prompts.front.depth"], true_mask)
        depth = enc.decode(ep.frames["observation.prompts.front.depth"][t], mask)
        inner = true_mask & mask
        # compare away from the silhouette, where the codec blurs agent into background
        inner[1:-1, 1:-1] &= (true_mask[:-2, 1:-1] & true_mask[2:, 1:-1]
                              & true_mask[1:-1, :-2] & true_mask[1:-1, 2:])
        depth_err.append(np.abs(depth[inner] - true_depth[inner]))
        skel = ep.frames["observation.prompts.front.skeleton"][t].astype(int)
        assert np.abs(skel - obs["prompts.front.skeleton"]).mean() < 8.0
    err = np.concatenate(depth_err)
    print(f"mask agreement {np.mean(mask_agree):.4f}, depth |err| median "
          f"{1e3 * np.median(err):.1f} mm, p95 {1e3 * np.quantile(err, 0.95):.1f} mm")
    assert np.mean(mask_agree) > 0.99
    assert np.quantile(err, 0.95) < 4 * enc.step_m


def test_single_env_wrapper_observations_fit_their_space():
    from twin.record.prompts import CameraObservationsEnv

    env = CameraObservationsEnv(gym.make("twin/PandaReach-v0", max_episode_steps=2), ["front"],
                                32, 32, prompts=True)
    obs, _ = env.reset(seed=0)
    obs2, *_ = env.step(env.action_space.sample())
    for o in (obs, obs2):
        assert env.observation_space.contains(o), {k: (v.dtype, v.shape) for k, v in o.items()}
    kw = env.recorder_kwargs()
    assert kw["video_keys"]["observation.prompts.front.mask"] == "prompts.front.mask"
    env.close()
