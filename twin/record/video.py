"""mp4 video for recorded camera streams: encode an episode, append it to a file, read it back.

This module owns everything PyAV does for ``twin.record``: the encoder settings
(``VideoEncoding``; LeRobot's defaults: AV1 via libsvtav1, CRF 30, a keyframe every 2
frames, yuv420p), streaming one episode's RGB frames into a scratch mp4 as they arrive,
appending that episode to a dataset video file by remuxing packets (no re-encode) with
timestamps shifted so the episode starts exactly at ``from_frame / fps`` seconds, probing
the per-video ``info`` block of ``meta/info.json``, and decoding an episode's frames back.

Timestamps: the encoder's time base is 1/fps; the mp4 muxer raises the timescale to
fps * 2^k >= 10000, so every frame time k/fps stays an exact integer tick and the
``from_timestamp``/``to_timestamp`` of each episode (frame counts / fps) match the decoded
frame times to the tick. B-frames are turned off for h264 so decode order equals
presentation order and no edit list is needed to start at 0.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

# SVT-AV1 writes warnings about its fast presets to stderr on every encoder it opens (six
# per episode of a two-camera recording); errors only, unless the user asks for more.
os.environ.setdefault("SVT_LOG", "1")

logger = logging.getLogger(__name__)

# SVT-AV1 prints a banner per encoder to stderr at its default level (info); warnings and
# errors still show. A user's own SVT_LOG wins.
os.environ.setdefault("SVT_LOG", "2")

# ffmpeg canonical codec name (as written in info.json "video.codec") -> encoder to use
# when a resumed recording must produce more of the same.
ENCODER_FOR_CODEC = {"av1": "libsvtav1", "h264": "libx264", "hevc": "libx265"}


@dataclass(frozen=True)
class VideoEncoding:
    """Encoder settings. ``codec`` is an ffmpeg encoder name (libsvtav1, libx264, ...)."""

    codec: str = "libsvtav1"
    crf: int = 30
    gop_size: int = 2  # keyframe interval in frames; small keeps random access cheap
    pix_fmt: str = "yuv420p"
    svtav1_preset: int = 12  # 0 (slow, small) .. 13 (fast); LeRobot uses 12

    def options(self) -> dict[str, str]:
        opts = {"g": str(self.gop_size), "crf": str(self.crf)}
        if self.codec == "libsvtav1":
            opts["preset"] = str(self.svtav1_preset)
        elif self.codec in ("libx264", "libx265"):
            opts["bf"] = "0"
        return opts


def can_encode(codec: str) -> bool:
    try:
        av.codec.Codec(codec, "w")
    except ValueError:  # av.codec.codec.UnknownCodecError: unknown or decoder-only
        return False
    return True


def resolve_encoding(requested: VideoEncoding | None) -> VideoEncoding:
    """The requested encoding, or LeRobot's AV1 default falling back to h264 if absent."""
    if requested is not None:
        if not can_encode(requested.codec):
            raise ValueError(
                f"video codec {requested.codec!r}: this PyAV/ffmpeg build cannot encode it"
            )
        return requested
    if can_encode("libsvtav1"):
        return VideoEncoding()
    if can_encode("libx264"):
        logger.info("libsvtav1 unavailable in this PyAV build; encoding h264 (libx264)")
        return VideoEncoding(codec="libx264")
    raise ValueError("this PyAV/ffmpeg build can encode neither libsvtav1 nor libx264")


class EpisodeVideoEncoder:
    """Encodes one episode of one camera into ``path`` as frames arrive."""

    def __init__(self, path: Path, fps: int, height: int, width: int, enc: VideoEncoding):
        self.path = path
        self.num_frames = 0
        self._container = av.open(str(path), mode="w", format="mp4")
        try:
            self._stream = self._container.add_stream(
                enc.codec, rate=Fraction(fps, 1), options=enc.options()
            )
            self._stream.width = width
            self._stream.height = height
            self._stream.pix_fmt = enc.pix_fmt
            # The muxer replaces the stream's time base when it writes the header; frames
            # are stamped in this fixed one and PyAV rescales.
            self._frame_time_base = Fraction(1, fps)
        except Exception:
            self._container.close()
            raise

    def write(self, rgb: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts = self.num_frames
        frame.time_base = self._frame_time_base
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.num_frames += 1

    def close(self) -> None:
        """Flush the encoder and write the mp4 index."""
        if self._container is None:
            return
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None

    def abort(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except (av.error.FFmpegError, OSError) as e:
                logger.debug("closing aborted scratch video %s: %s", self.path, e)
            self._container = None
        self.path.unlink(missing_ok=True)


def append_episode(
    existing: Path | None, episode: Path, out: Path, start_frame: int, fps: int
) -> None:
    """Write ``out`` = packets of ``existing`` (if any) then ``episode``'s, no re-encode.

    ``start_frame`` is the number of frames already in ``existing``: the episode's packets
    are shifted to start at ``start_frame / fps`` seconds.
    """
    if existing is None and start_frame != 0:
        raise ValueError(f"{episode}: a new video file starts at frame 0, not {start_frame}")
    parts = [(episode, 0)] if existing is None else [(existing, 0), (episode, start_frame)]
    with av.open(str(parts[0][0])) as first:
        template = first.streams.video[0]
        with av.open(str(out), mode="w", format="mp4", options={"movflags": "faststart"}) as dst:
            out_stream = dst.add_stream_from_template(template, opaque=True)
            out_stream.time_base = template.time_base
            for src_path, first_frame in parts:
                with av.open(str(src_path)) as src:
                    stream = src.streams.video[0]
                    offset_s = Fraction(first_frame, fps)
                    shift = int(offset_s / stream.time_base)
                    if Fraction(shift) * stream.time_base != offset_s:
                        raise ValueError(
                            f"{src_path}: time base {stream.time_base} cannot place frame "
                            f"{first_frame} at exactly {first_frame}/{fps} s"
                        )
                    for packet in src.demux(stream):
                        if packet.dts is None:  # demuxer flush packet
                            continue
                        packet.pts += shift
                        packet.dts += shift
                        packet.stream = out_stream
                        dst.mux(packet)


def probe_video_info(path: Path) -> dict[str, Any]:
    """LeRobot's per-video ``info`` block for ``meta/info.json``."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pix_fmt = stream.codec_context.pix_fmt or "yuv420p"
        info = {
            "video.height": stream.codec_context.height,
            "video.width": stream.codec_context.width,
            "video.codec": stream.codec_context.codec.canonical_name,
            "video.pix_fmt": pix_fmt,
            "video.is_depth_map": False,
            "video.fps": round(float(stream.base_rate or stream.average_rate)),
            "video.channels": 4 if ("rgba" in pix_fmt or "yuva" in pix_fmt) else 3,
            "has_audio": len(container.streams.audio) > 0,
        }
    return info


def count_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(container.streams.video[0]) if p.dts is not None)


def decode_frames(path: Path, from_frame: int, num_frames: int, fps: int) -> np.ndarray:
    """Frames [from_frame, from_frame + num_frames) of a video file, (N, H, W, 3) uint8 RGB.

    Frames are selected by their presentation time (rounded to a frame index at ``fps``),
    the same key LeRobot uses (``from_timestamp + timestamp``).
    """
    out: list[np.ndarray] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        if from_frame > 0:
            container.seek(int(Fraction(from_frame, fps) / tb), stream=stream, backward=True)
        for frame in container.decode(stream):
            k = round(frame.pts * tb * fps)
            if k < from_frame:
                continue
            if k >= from_frame + num_frames:
                break
            if k != from_frame + len(out):
                raise ValueError(f"{path}: expected frame {from_frame + len(out)}, decoded {k}")
            out.append(frame.to_ndarray(format="rgb24"))
    if len(out) != num_frames:
        raise ValueError(
            f"{path}: expected {num_frames} frames from frame {from_frame}, decoded {len(out)}"
        )
    return np.stack(out)
