#!/usr/bin/env python3
"""The load benchmark of issue 9: the same headless participants (build-bench/conclave-bot)
against Conclave and against Janus's VideoRoom, in one run on this machine, inside a network
namespace of our own (scripts/bench-load makes it: loopback, plus a veth pair with
10.255.255.1/32 on jv0 for Janus, which skips loopback when gathering candidates).

For each scenario and server it records, over a measured window after a warm-up: server CPU
seconds per forwarded packet, forwarded packets/s and Mbit/s, packets/s per busy core,
one-way latency through the server (p50/p99), loss, server memory per participant and join
time. It prints a markdown table with Conclave/Janus ratios, writes it (and JSON) into
docs/benchmarks.md between <!-- begin:load --> and <!-- end:load --> (the full run only;
--quick prints), and ends with the line
    ratio cpu_per_forwarded_packet conclave/janus = <x.xx>
for the 10x10 scenario. Numbers are measured, never asserted.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build-bench")
BOT = os.path.join(BUILD, "conclave-bot")
SERVER = os.path.join(BUILD, "conclave")
JANUS_DIR = os.path.join(ROOT, "bench", "janus")
JANUS_IP = "10.255.255.1"
DOC = os.path.join(ROOT, "docs", "benchmarks.md")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ servers

class Conclave:
    name = "Conclave"

    def __init__(self, workers):
        self.workers = workers
        self.proc = None
        self.port = None

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="conclave-load-")
        args = [SERVER, "--http-port", "0", "--rtc-port", "0", "--data-dir", self.dir,
                "--meeting-create", "anyone", "--limits-join-attempts", "1000000",
                "--meeting-max-participants", "1000",
                "--rtc-workers", str(self.workers), "--log-level", "info"]
        path = os.path.join(self.dir, "server.log")
        with open(path, "w") as out:
            env = {k: v for k, v in os.environ.items() if not k.startswith("CONCLAVE_")}
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 10
        while time.time() < deadline:
            with open(path) as f:
                text = f.read()
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", text)
            if m:
                self.port = int(m.group(1))
                return
            time.sleep(0.05)
        raise RuntimeError("conclave did not start: " + text[-1000:])

    def bot_args(self):
        return ["--server", f"http://127.0.0.1:{self.port}", "--create"]

    def config(self):
        return f"`conclave --rtc-workers {self.workers}` (Release build), SQLite store, loopback"

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Janus:
    name = "Janus"

    def __init__(self, event_loops):
        self.event_loops = event_loops
        self.proc = None
        self.room = 1000

    def start(self):
        out = subprocess.run([os.path.join(JANUS_DIR, "run.sh"), str(self.event_loops)],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError("janus did not start: " + out.stderr[-2000:])
        self.pid = int(out.stdout.strip().split()[-1])

    def bot_args(self):
        self.room += 1
        return ["--janus", f"ws://{JANUS_IP}:8188", "--room", str(self.room), "--bind", JANUS_IP]

    def config(self):
        return (f"Janus 1.1.2 (Debian), VideoRoom, `event_loops = {self.event_loops}`, "
                f"configs in bench/janus/")

    def stop(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
            for _ in range(100):
                os.kill(self.pid, 0)
                time.sleep(0.1)
        except (ProcessLookupError, AttributeError):
            pass


def server_pid(server):
    return server.proc.pid if isinstance(server, Conclave) else server.pid


# ------------------------------------------------------------------ runs

def run_bot(server, extra, warmup, duration):
    out = tempfile.mktemp(prefix="conclave-bot-", suffix=".json")
    args = [BOT, *server.bot_args(), "--warmup", str(warmup), "--duration", str(duration),
            "--server-pid", str(server_pid(server)), "--json", out, *extra]
    log("  $", " ".join(args[1:]))
    timeout = warmup + duration + 120
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    try:
        with open(out) as f:
            r = json.load(f)
        os.unlink(out)
    except (OSError, ValueError):
        raise RuntimeError(f"conclave-bot failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-2000:]}")
    t = r["total"]
    log(f"    failed={t['failed']} fwd_pps={t['forwarded_pps']:.0f} loss={t['loss_pct']:.3f}% "
        f"p99={t['p99_us']:.0f}us cpu/pkt={t.get('server_cpu_us_per_forwarded_packet', 0):.2f}us")
    return t


def scenarios(quick):
    if quick:
        return [
            ("10×10 meeting", "10 publishers with 3-layer simulcast, everyone subscribes to everyone",
             ["--bots", "10"], 3, 10, None),
            ("webinar 1→50", "1 publisher, 50 subscribers", ["--bots", "51", "--publishers", "1"], 3, 8, None),
        ]
    return [
        ("10×10 meeting", "10 publishers with 3-layer simulcast, everyone subscribes to everyone",
         ["--bots", "10"], 5, 20, None),
        ("webinar 1→N", "1 publisher; N stepped up until loss > 1 % or p99 > 50 ms",
         ["--publishers", "1"], 4, 12, [25, 50, 100, 150, 200, 300]),
        ("200 audio, 5 speaking", "200 audio-only participants, 5 of them speaking, one meeting",
         ["--bots", "200", "--audio-only", "--speakers", "5", "--stagger", "10"], 5, 15, None),
        ("50 meetings of 4", "200 participants in 50 meetings of 4, all publishing",
         ["--bots", "200", "--meetings", "50", "--stagger", "10"], 5, 15, None),
    ]


def measure(server, scenario):
    title, what, extra, warmup, duration, steps = scenario
    if not steps:
        return run_bot(server, extra, warmup, duration), None
    best = None
    reached = None
    for n in steps:
        t = run_bot(server, extra + ["--bots", str(n + 1)], warmup, duration)
        t["subscribers"] = n
        if t["failed"] or t["loss_pct"] > 1 or t["p99_us"] > 50000:
            reached = n
            break
        best = t
    return (best or t), reached


# ------------------------------------------------------------------ report

def fmt(v, digits=2):
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


ROWS = [
    ("server CPU µs per forwarded packet", "server_cpu_us_per_forwarded_packet", 1),
    ("forwarded packets/s", "forwarded_pps", 1),
    ("forwarded Mbit/s", "forwarded_mbps", 1),
    ("packets/s per busy core", "server_pps_per_busy_core", 1),
    ("one-way latency p50 (ms)", "p50_us", 1e-3),
    ("one-way latency p99 (ms)", "p99_us", 1e-3),
    ("loss %", "loss_pct", 1),
    ("server RSS per participant (KiB)", "server_rss_kb_per_participant", 1),
    ("join time p50 (ms)", "join_p50_ms", 1),
    ("participants that failed", "failed", 1),
]


def table(results, servers):
    lines = []
    names = [s.name for s in servers]
    head = "| scenario | measure | " + " | ".join(names)
    if len(names) == 2:
        head += f" | {names[0]}/{names[1]}"
    lines.append(head + " |")
    lines.append("| --- | --- |" + " ---: |" * (len(names) + (1 if len(names) == 2 else 0)))
    for title, per_server in results:
        for label, key, scale in ROWS:
            vals = []
            for s in servers:
                t = per_server.get(s.name)
                vals.append(None if t is None or key not in t else t[key] * scale)
            row = f"| {title} | {label} | " + " | ".join(fmt(v) for v in vals)
            if len(vals) == 2:
                ratio = vals[0] / vals[1] if vals[0] is not None and vals[1] else None
                row += f" | {fmt(ratio)}"
            lines.append(row + " |")
    return "\n".join(lines)


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}"


def ceiling_note(results, conclave):
    """How close Conclave is to this machine's floor for its send path (scripts/bench-ceiling
    writes the numbers into the same document)."""
    try:
        doc = open(DOC).read()
    except OSError:
        return None
    send = re.search(r"\| UDP send \| `sendmmsg` ×32[^|]*\| ([\d.]+) \|", doc)
    gcm = re.search(r"srtp_gcm_protect_us=([\d.]+)", doc)
    ten = dict(results[0][1]).get(conclave, {}).get("server_cpu_us_per_forwarded_packet")
    if not (send and gcm and ten):
        return None
    floor = float(send.group(1)) + float(gcm.group(1))
    return (f"The ceiling (scripts/bench-ceiling, same machine): sending a 1200-byte packet with "
            f"sendmmsg and protecting it with libsrtp2's AES-GCM cost {floor:.1f} µs together; "
            f"Conclave's {ten:.1f} µs per forwarded packet in the 10×10 meeting is "
            f"{ten / floor:.1f}× that floor (the rest: receiving, unprotecting, parsing, "
            f"rewriting, feedback, timers).")


def write_doc(text):
    with open(DOC) as f:
        doc = f.read()
    block = f"<!-- begin:load -->\n{text}\n<!-- end:load -->"
    if "<!-- begin:load -->" in doc:
        doc = re.sub(r"<!-- begin:load -->.*?<!-- end:load -->", lambda _: block, doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    with open(DOC, "w") as f:
        f.write(doc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-janus", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--janus-event-loops", default="2,0",
                    help="event_loops values to run Janus with (0: its default, a thread per handle)")
    a = ap.parse_args()

    servers = [Conclave(a.workers)]
    if not a.no_janus:
        servers += [Janus(int(x)) for x in a.janus_event_loops.split(",")]
    results = []
    load = os.getloadavg()
    for sc in scenarios(a.quick):
        per = {}
        for s in servers:
            label = s.name if not isinstance(s, Janus) else f"Janus (event_loops={s.event_loops})"
            s.name = label
            log(f"== {sc[0]} on {label}")
            try:
                s.start()
                t, reached = measure(s, sc)
                if reached is not None:
                    t["limit_at"] = reached
                per[label] = t
            except Exception as e:  # noqa: BLE001 - a failed run is a row of dashes, said below
                log(f"   failed: {e}")
                per[label] = {"error": str(e)[:300]}
            finally:
                s.stop()
        results.append((sc[0], per))
    servers_named = servers
    # The two columns the ratio compares: Conclave and Janus's best (first) configuration.
    compare = servers_named[:2]
    text_table = table(results, compare)
    extra = ""
    if len(servers_named) > 2:
        extra = "\n\nJanus's other configuration:\n\n" + table(results, [servers_named[0], servers_named[2]])
    ten = dict(results[0][1])
    c = ten.get(servers_named[0].name, {}).get("server_cpu_us_per_forwarded_packet")
    j = ten.get(servers_named[1].name, {}).get("server_cpu_us_per_forwarded_packet") if len(servers_named) > 1 else None
    ratio_line = (f"ratio cpu_per_forwarded_packet conclave/janus = {c / j:.2f}" if c and j
                  else "ratio cpu_per_forwarded_packet conclave/janus = n/a (Janus did not run)")
    cmd = "scripts/bench-load" + (" --quick" if a.quick else "")
    notes = [
        f"Machine: {machine()}; load average {load[0]:.2f} when the run started. Everything ran "
        "in one network namespace made for the run (loopback, and a veth pair with "
        f"{JANUS_IP}/32 for Janus); the bots (build-bench/conclave-bot, one process per run) "
        "share the machine's cores with the server they measure.",
        "Servers: " + "; ".join(s.config() for s in servers_named) + ".",
        "Method: conclave-bot joins every participant through the server's own protocol, "
        "publishes Opus-sized audio (50 packets/s) and VP8-shaped video in three simulcast "
        "layers (150/500/1500 kbit/s at 30 fps, key frames every 3 s and on request), "
        "subscribes to everyone with transport-wide CC feedback, and after a warm-up measures "
        "for the window: packets and bytes its subscribers received (forwarded), the server's "
        "CPU seconds from /proc/<pid>/stat over the same window, and the one-way latency of "
        "each packet from a send-time stamp in its payload (same clock).",
    ]
    ceiling = ceiling_note(results, servers_named[0].name)
    if ceiling:
        notes.append(ceiling)
    for title, per in results:
        for name, t in per.items():
            if "error" in t:
                notes.append(f"{title} on {name}: did not run: {t['error']}")
            if "limit_at" in t:
                notes.append(f"{title} on {name}: loss > 1 % or p99 > 50 ms at {t['limit_at']} "
                             f"subscribers; the row shows the last step under it "
                             f"({t.get('subscribers', '—')} subscribers).")
            elif "subscribers" in t:
                notes.append(f"{title} on {name}: the last step ({t['subscribers']} subscribers) "
                             "stayed under the limits.")
    text = ("## Load: Conclave and Janus side by side (benchmark issue)\n\n"
            f"```sh\n{cmd}\n```\n\n" + text_table + extra + "\n\n" +
            "\n".join("- " + n for n in notes) + "\n\nJSON of this run:\n\n```json\n" +
            json.dumps({t: p for t, p in results}, indent=1, default=str)[:20000] + "\n```\n\n" +
            ratio_line)
    if not a.quick:  # the document keeps the full run; --quick only prints
        write_doc(text)
    print(text_table + extra)
    print()
    print(ratio_line)


if __name__ == "__main__":
    main()
