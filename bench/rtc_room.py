"""RTC room: CPU per forwarded RTP packet of the media server, against stock aiortc and Janus, in one run.

One publisher replays pre-encoded VP8 640x360 20 fps (~600 kb/s) + Opus 20 ms (``bench._rtc_agents``;
encoded once with PyAV and cached in ``var/bench``; aiortc only packetizes it). Subscribers live in
separate processes, finish ICE and DTLS, then only count SRTP datagrams (no decryption); one of them
decodes everything (aiortc/PyAV) to prove the stream valid and to time the keyframe on join. The
load generators are pinned to core 0 and the server under test to core 1 (``taskset``); the server's
CPU (utime+stime of all its threads, /proc) over the window is divided by the packets the subscribers
received in it.

Variants, one after the other at fan-outs 1→4 and 1→8:

- ``forward``: this project's media server (``rtc.media.MediaServer``), recording every track as in
  production, subscribers offering 7 video and 11 audio slots, as a 12-person room's browsers would;
- ``relay``: stock aiortc, ``MediaRelay`` (decode once, encode per subscriber), 1→2 and 1→4;
- ``janus``: Debian's Janus (videoroom plugin, HTTP transport) inside a network namespace this
  script creates (Janus ignores loopback), clients on the host end of a veth pair.

The CPU per forwarded packet comes from the slope between the two fan-outs (so the publisher's ingest
and idle costs drop out); the 12-person room (12 publishers, last-N 6, all audio) is derived as
12 × intercept + its forwarded packets × slope. Prints ONE JSON line.

    flock -x /tmp/cpu.lock .venv/bin/python -m bench.rtc_room [--window 10] [--variants forward,relay,janus]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
LOAD_CORE, SERVER_CORE = "0", "1"
NETNS, VETH_HOST, VETH_NS = "r1rtcbench", "r1rtc0", "r1rtc1"
HOST_IP, JANUS_IP = "10.231.7.1", "10.231.7.2"
TICKS = os.sysconf("SC_CLK_TCK")
TWELVE = {"participants": 12, "last_n": 6}


def log(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Agent:
    def __init__(self, args: list[str], core: str, netns: bool = False) -> None:
        command = ["taskset", "-c", core, PY, "-m", "bench._rtc_agents", *args]
        self.proc = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr, text=True
        )

    def read(self, timeout: float = 60) -> dict[str, Any]:
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line:
            raise RuntimeError(f"agent exited ({self.proc.poll()})")
        return json.loads(line)

    def ask(self, line: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.read()

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- Janus in its own network namespace ---------------------------------------------------------------


def sh(*command: str) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def netns_up() -> None:
    netns_down()
    sh("ip", "netns", "add", NETNS)
    sh("ip", "link", "add", VETH_HOST, "type", "veth", "peer", "name", VETH_NS)
    sh("ip", "link", "set", VETH_NS, "netns", NETNS)
    sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", VETH_HOST)
    sh("ip", "link", "set", VETH_HOST, "up")
    sh("ip", "netns", "exec", NETNS, "ip", "addr", "add", f"{JANUS_IP}/24", "dev", VETH_NS)
    sh("ip", "netns", "exec", NETNS, "ip", "link", "set", VETH_NS, "up")
    sh("ip", "netns", "exec", NETNS, "ip", "link", "set", "lo", "up")


def netns_down() -> None:
    subprocess.run(["ip", "link", "del", VETH_HOST], stderr=subprocess.DEVNULL, check=False)
    subprocess.run(["ip", "netns", "del", NETNS], stderr=subprocess.DEVNULL, check=False)


JANUS_LIB = Path("/usr/lib/x86_64-linux-gnu/janus")


def janus_start(folder: Path) -> subprocess.Popen[bytes]:
    conf, plugins, transports = folder / "conf", folder / "plugins", folder / "transports"
    for d in (conf, plugins, transports):
        d.mkdir(parents=True, exist_ok=True)
    (plugins / "libjanus_videoroom.so").symlink_to(JANUS_LIB / "plugins" / "libjanus_videoroom.so")
    (transports / "libjanus_http.so").symlink_to(JANUS_LIB / "transports" / "libjanus_http.so")
    (conf / "janus.jcfg").write_text(
        f"""general: {{ configs_folder = "{conf}" plugins_folder = "{plugins}" transports_folder = "{transports}"
  events_folder = "{folder}" loggers_folder = "{folder}" log_to_stdout = true debug_level = 3 }}
media: {{ rtp_port_range = "20000-40000" }}
nat: {{ ice_enforce_list = "{VETH_NS}" ignore_mdns = true }}
"""
    )
    (conf / "janus.transport.http.jcfg").write_text(
        'general: { json = "plain" base_path = "/janus" http = true port = 8088 https = false }\n'
        "admin: { admin_http = false }\n"
    )
    (conf / "janus.plugin.videoroom.jcfg").write_text("general: { }\n")
    log_file = (folder / "janus.log").open("wb")
    proc = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            NETNS,
            "taskset",
            "-c",
            SERVER_CORE,
            "janus",
            "-F",
            str(conf),
            "-C",
            str(conf / "janus.jcfg"),
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    import urllib.request

    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://{JANUS_IP}:8088/janus/info", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"Janus did not start: see {folder / 'janus.log'}")


def janus_pid(wrapper: subprocess.Popen[bytes]) -> int:
    # `ip netns exec` and taskset exec their command, so this is janus itself; checked, not assumed.
    comm = Path(f"/proc/{wrapper.pid}/comm").read_text().strip()
    if comm != "janus":
        raise RuntimeError(f"expected the janus process, found {comm}")
    return wrapper.pid


# --- one measurement ------------------------------------------------------------------------------------


def measure(variant: str, fanout: int, clip: Path, window: float, folder: Path) -> dict[str, Any]:
    agents: list[Agent] = []
    janus = None
    host = "127.0.0.1"
    try:
        if variant == "janus":
            janus = janus_start(Path(tempfile.mkdtemp(prefix=f"janus-{fanout}-", dir=folder)))
            server_pid = janus_pid(janus)
            target = f"janus:http://{JANUS_IP}:8088/janus"
            host = HOST_IP
            import asyncio

            from bench._rtc_agents import janus_room

            asyncio.run(janus_room(target[len("janus:") :]))
        else:
            port = 18700 + fanout + (50 if variant == "relay" else 0)
            server = Agent(["server", "--kind", variant, "--port", str(port)], SERVER_CORE)
            agents.append(server)
            server.read()
            server_pid = server.proc.pid
            target = f"tcp:127.0.0.1:{port}"
        publisher = Agent(["publisher", "--target", target, "--clip", str(clip), "--host", host], LOAD_CORE)
        agents.append(publisher)
        publisher.read()
        slots = ["--video-slots", "7", "--audio-slots", "11"] if variant == "forward" else []
        subscribers = [
            Agent(["subscribers", "--target", target, "--count", "1", "--decode", "--host", host, *slots], LOAD_CORE)
        ]
        left = fanout - 1
        while left > 0:
            n = min(2, left)
            subscribers.append(
                Agent(["subscribers", "--target", target, "--count", str(n), "--host", host, *slots], LOAD_CORE)
            )
            left -= n
        agents += subscribers
        for agent in subscribers:
            agent.read()
        time.sleep(3)
        before = [a.ask("count") for a in subscribers]
        cpu_before, t_before = cpu_seconds(server_pid), time.monotonic()
        time.sleep(window)
        after = [a.ask("count") for a in subscribers]
        cpu_after, t_after = cpu_seconds(server_pid), time.monotonic()
        elapsed = t_after - t_before
        packets = sum(b["packets"] - a["packets"] for a, b in zip(before, after, strict=True))
        cpu = cpu_after - cpu_before
        result = {
            "variant": variant,
            "fanout": fanout,
            "forwarded_packets_per_s": round(packets / elapsed, 1),
            "server_cpu_cores": round(cpu / elapsed, 4),
            "cpu_us_per_forwarded_packet": round(cpu * 1e6 / packets, 1) if packets else None,
            "frames_decoded_by_checker": after[0]["decoded"],
            "checker_fps": round((after[0]["decoded"] - before[0]["decoded"]) / elapsed, 1),
            "keyframe_delay_on_join_s": round(after[0]["keyframe_delay"], 3) if after[0]["keyframe_delay"] else None,
        }
        log(json.dumps(result))
        return result
    finally:
        for agent in reversed(agents):
            agent.stop()
        if janus is not None:
            janus.terminate()
            try:
                janus.wait(5)
            except subprocess.TimeoutExpired:
                janus.kill()


def slope(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    """CPU per forwarded packet from the difference of two fan-outs, and the fixed part (ingest, idle)."""
    d_cpu = b["server_cpu_cores"] - a["server_cpu_cores"]
    d_pkts = b["forwarded_packets_per_s"] - a["forwarded_packets_per_s"]
    per_packet = d_cpu / d_pkts if d_pkts > 0 else float("nan")
    per_subscriber = d_cpu / (b["fanout"] - a["fanout"])
    fixed = a["server_cpu_cores"] - per_subscriber * a["fanout"]
    return {
        "us_per_forwarded_packet": round(per_packet * 1e6, 1),
        "cores_per_subscriber": round(per_subscriber, 4),
        "fixed_cores": round(fixed, 4),
        "packets_per_s_per_subscriber": round(b["forwarded_packets_per_s"] / b["fanout"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--variants", default="forward,relay,janus")
    parser.add_argument(
        "--repeat", type=int, default=1, help="measure every variant's pair of fan-outs this often, interleaved"
    )
    args = parser.parse_args()
    variants = args.variants.split(",")
    clip = Path(
        json.loads(
            subprocess.check_output(
                [PY, "-m", "bench._rtc_agents", "clip", "--clip", str(ROOT / "var" / "bench")], cwd=ROOT
            )
        )["clip"]
    )
    folder = Path(tempfile.mkdtemp(prefix="rtc_room_"))
    log(f"logs in {folder}")
    runs: dict[str, list[dict[str, Any]]] = {}
    fanouts = {"forward": (4, 8), "relay": (2, 4), "janus": (4, 8)}
    if "janus" in variants:
        if not shutil.which("janus"):
            raise SystemExit("Janus is not installed: apt-get install janus")
        netns_up()
    slopes: dict[str, list[dict[str, float]]] = {}
    try:
        for _ in range(args.repeat):
            for variant in variants:
                pair = [measure(variant, n, clip, args.window, folder) for n in fanouts[variant]]
                runs.setdefault(variant, []).extend(pair)
                slopes.setdefault(variant, []).append(slope(*pair))
    finally:
        if "janus" in variants:
            netns_down()
    # With --repeat, the median of each figure over the repeats (the machine is shared: noise).
    summary: dict[str, Any] = {
        v: {key: round(statistics.median(x[key] for x in per_repeat), 4) for key in per_repeat[0]}
        for v, per_repeat in slopes.items()
    }
    ours = summary.get("forward")
    derived = None
    if ours:
        fwd = runs["forward"][1]
        per_sub = ours["packets_per_s_per_subscriber"]
        audio_pps = 50.0
        video_pps = per_sub - audio_pps
        participants, last_n = TWELVE["participants"], TWELVE["last_n"]
        forwarded = participants * (last_n * video_pps + (participants - 1) * audio_pps)
        cores = participants * max(ours["fixed_cores"], 0) + forwarded * ours["us_per_forwarded_packet"] / 1e6
        derived = {
            **TWELVE,
            "video_packets_per_s_per_stream": round(video_pps, 1),
            "forwarded_packets_per_s": round(forwarded, 1),
            "media_worker_cpu_cores": round(cores, 3),
            "target_cores": 1.0,
            "checker_frames_decoded": fwd["frames_decoded_by_checker"],
        }
    ratios: dict[str, Any] = {}
    if ours and "janus" in summary:
        # A slope at or below zero means the window was too short for the noise: no ratio then.
        ratios["janus_us_over_ours"] = (
            round(summary["janus"]["us_per_forwarded_packet"] / ours["us_per_forwarded_packet"], 2)
            if ours["us_per_forwarded_packet"] > 0
            else None
        )
        if args.repeat > 1:
            ratios["janus_us_over_ours_per_repeat"] = [
                round(j["us_per_forwarded_packet"] / o["us_per_forwarded_packet"], 2)
                if o["us_per_forwarded_packet"] > 0
                else None
                for j, o in zip(slopes["janus"], slopes["forward"], strict=True)
            ]
    if ours and "relay" in summary:
        # Transcoding saturates its core early (frames dropped, the slope meaningless): its CPU per
        # subscriber is then taken as total / fan-out at the smaller fan-out, a lower bound.
        relay_low = runs["relay"][0]
        saturated = any(r["checker_fps"] < 0.9 * 20 for r in runs["relay"])
        per_subscriber = (
            relay_low["server_cpu_cores"] / relay_low["fanout"]
            if saturated
            else summary["relay"]["cores_per_subscriber"]
        )
        ratios["relay_per_subscriber_cpu_over_ours"] = (
            round(per_subscriber / ours["cores_per_subscriber"], 1) if ours["cores_per_subscriber"] > 0 else None
        )
        ratios["relay_saturated"] = saturated
    print(
        json.dumps(
            {
                "benchmark": "rtc_room",
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "clip": "VP8 640x360 20 fps ~600 kb/s + Opus 20 ms, replayed",
                "window_s": args.window,
                "repeat": args.repeat,
                "runs": runs,
                "per_variant": summary,
                "twelve_person_room": derived,
                "ratios": ratios,
            }
        )
    )


if __name__ == "__main__":
    main()
