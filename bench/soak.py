"""`make soak`: validate at about half the peak rate for ten minutes; no errors, stable memory.

1. Same database, seeding, bodies and gunicorn command line as `make bench` (bench/run.py).
2. Measures the peak validate rate with wrk (3 s warm-up, then BENCH_SOAK_PEAK_SECONDS at
   BENCH_CONNECTIONS connections), unless BENCH_SOAK_RATE gives the target rate outright.
3. Drives POST /api/v1/licenses/validate at half that rate for BENCH_SOAK_SECONDS (default 600)
   with an open-loop generator (asyncio, one connection per request as gunicorn's sync workers
   close them): requests are sent on a fixed schedule whatever the latency, so the rate does not
   sag when the server slows down, and latency is counted from the scheduled send time (no
   coordinated omission).
4. Every BENCH_SOAK_SAMPLE_SECONDS (10) reads VmRSS from /proc/<pid>/status for every gunicorn
   worker (the children of the master).

Fails (exit 1) on any non-2xx answer, socket error or timeout, on a worker that died or was
replaced, or when a worker's RSS grew by more than BENCH_SOAK_MAX_GROWTH_MB (20) over the second
half of the run (the first half is the warm-up). Samples and figures go to bench/.data/soak.json.
"""

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from bench.run import (
    DATA,
    HOST,
    PORT,
    ROOT,
    check_answers,
    gunicorn_command,
    log,
    prepare,
    wait_for_server,
    wrk,
)

PATH = "/api/v1/licenses/validate"


def env_number(name: str, default: float) -> float:
    return float(os.environ.get(name, "") or default)


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: processes whose parent is the master."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces, so split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == master:
            pids.append(int(entry.name))
    return sorted(pids)


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


class Soak:
    def __init__(self, bodies: list[bytes], rate: float, seconds: float, sample_every: float, master: int):
        self.requests = [
            (
                f"POST {PATH} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            + body
            for body in bodies
        ]
        self.rate = rate
        self.seconds = seconds
        self.sample_every = sample_every
        self.master = master
        self.timeout = env_number("BENCH_SOAK_TIMEOUT", 30)
        self.latency: list[float] = []  # from the scheduled send time, seconds
        self.service: list[float] = []  # from the actual connect, seconds
        self.sent = 0
        self.done = 0
        self.non_2xx = 0
        self.socket_errors = 0
        self.timeouts = 0
        self.statuses: dict[str, int] = {}
        self.error_examples: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.max_send_lag = 0.0
        self.samples: list[dict] = []

    def error(self, text: str) -> None:
        if len(self.error_examples) < 10:
            self.error_examples.append(text)

    async def one(self, payload: bytes, scheduled: float) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        writer = None
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(HOST, PORT)
                writer.write(payload)
                await writer.drain()
                response = await reader.read()
            finished = loop.time()
            status_line = response.split(b"\r\n", 1)[0].decode("latin-1")
            parts = status_line.split()
            status = parts[1] if len(parts) > 1 and parts[0].startswith("HTTP/") else "?"
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if not status.startswith("2"):
                self.non_2xx += 1
                self.error(f"{status_line!r} {response[-200:]!r}")
            self.latency.append(finished - scheduled)
            self.service.append(finished - started)
        except TimeoutError:
            self.timeouts += 1
            self.error(f"timeout after {self.timeout} s")
        except OSError as exc:
            self.socket_errors += 1
            self.error(f"socket error: {exc!r}")
        finally:
            self.in_flight -= 1
            self.done += 1
            if writer is not None:
                writer.close()

    def sample(self, elapsed: float) -> dict:
        pids = worker_pids(self.master)
        rss = {str(pid): value for pid in pids if (value := rss_kb(pid)) is not None}
        row = {
            "t": round(elapsed, 1),
            "requests": self.done,
            "errors": self.errors,
            "rss_kb": rss,
            "master_rss_kb": rss_kb(self.master),
        }
        self.samples.append(row)
        return row

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors + self.timeouts

    async def sampler(self, start: float) -> None:
        loop = asyncio.get_running_loop()
        previous = 0
        tick = 0
        while True:
            row = self.sample(loop.time() - start)
            window = row["requests"] - previous
            previous = row["requests"]
            rss = ", ".join(f"{int(v) / 1024:.1f}" for v in row["rss_kb"].values())
            rate = window / self.sample_every if tick else 0
            log(
                f"  t={row['t']:5.0f}s  {row['requests']:7d} done  {rate:6.1f} req/s  "
                f"errors {row['errors']}  in flight {self.in_flight}  worker RSS MB: {rss}"
            )
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * self.sample_every - loop.time()))

    async def run(self) -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        sampler = asyncio.create_task(self.sampler(start))
        tasks: set[asyncio.Task] = set()
        interval = 1 / self.rate
        total = int(self.seconds * self.rate)
        for i in range(total):
            scheduled = start + i * interval
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.max_send_lag = max(self.max_send_lag, -delay)
            task = asyncio.create_task(self.one(self.requests[i % len(self.requests)], scheduled))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            self.sent += 1
        send_done = loop.time()
        if tasks:
            await asyncio.wait(tasks)
        elapsed = send_done - start
        sampler.cancel()
        self.sample(loop.time() - start)
        return elapsed


def worker_report(samples: list[dict], seconds: float) -> dict:
    """Start / end / max RSS per worker and the growth over the second half of the run."""
    half = seconds / 2
    report = {}
    pids = sorted({pid for row in samples for pid in row["rss_kb"]}, key=int)
    for pid in pids:
        series = [(row["t"], row["rss_kb"][pid]) for row in samples if pid in row["rss_kb"]]
        second_half = [value for t, value in series if t >= half]
        mid = second_half[0] if second_half else series[-1][1]
        report[pid] = {
            "start_mb": series[0][1] / 1024,
            "mid_mb": mid / 1024,
            "end_mb": series[-1][1] / 1024,
            "max_mb": max(value for _, value in series) / 1024,
            "growth_total_mb": (series[-1][1] - series[0][1]) / 1024,
            "growth_second_half_mb": (series[-1][1] - mid) / 1024,
            "samples": len(series),
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--licenses", type=int, default=int(os.environ.get("BENCH_LICENSES", "100000")))
    parser.add_argument("--seconds", type=float, default=env_number("BENCH_SOAK_SECONDS", 600))
    parser.add_argument("--rate", type=float, default=env_number("BENCH_SOAK_RATE", 0))
    parser.add_argument("--peak-seconds", type=int, default=int(env_number("BENCH_SOAK_PEAK_SECONDS", 10)))
    parser.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", "32")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "2")))
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", str(2 * os.cpu_count())))
    )
    parser.add_argument("--sample-every", type=float, default=env_number("BENCH_SOAK_SAMPLE_SECONDS", 10))
    parser.add_argument("--max-growth-mb", type=float, default=env_number("BENCH_SOAK_MAX_GROWTH_MB", 20))
    args = parser.parse_args()

    # Recycling workers would hide a leak: the soak always runs them for the whole time.
    env, sample, bodies_file = prepare(args.licenses, recycle_workers=False)
    bodies = [line.encode() for line in bodies_file.read_text().splitlines() if line]
    if not args.rate and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk), or set BENCH_SOAK_RATE")

    log(
        f"gunicorn, {args.workers} sync workers; soak {args.seconds:.0f} s, "
        f"RSS every {args.sample_every:.0f} s"
    )
    server = subprocess.Popen(gunicorn_command(args.workers), cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    base = f"http://{HOST}:{PORT}"
    peak = None
    try:
        wait_for_server(f"{base}/bench/bare")
        check_answers(base, sample)
        if args.rate:
            target = args.rate
            log(f"target rate {target:.1f} req/s (BENCH_SOAK_RATE)")
        else:
            log(
                f"peak validate rate: wrk 3 s warm-up, then {args.peak_seconds} s "
                f"at {args.connections} connections"
            )
            common = {"connections": args.connections, "threads": args.threads}
            wrk(f"{base}{PATH}", bodies_file, seconds=3, **common)
            peak = wrk(f"{base}{PATH}", bodies_file, seconds=args.peak_seconds, **common)
            target = peak["rps"] / 2
            log(f"target rate {target:.1f} req/s (half of {peak['rps']:.1f})")
        time.sleep(2)  # let the backlog from the peak run drain before the first sample
        workers_before = worker_pids(server.pid)
        soak = Soak(bodies, target, args.seconds, args.sample_every, server.pid)
        elapsed = asyncio.run(soak.run())
        workers_after = worker_pids(server.pid)
        check_answers(base, sample)
        alive = server.poll() is None
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    workers = worker_report(soak.samples, args.seconds)
    achieved = soak.done / elapsed if elapsed else 0.0
    ms = 1000
    summary = {
        "target_rps": target,
        "achieved_rps": achieved,
        "seconds": args.seconds,
        "requests": soak.done,
        "statuses": soak.statuses,
        "non_2xx": soak.non_2xx,
        "socket_errors": soak.socket_errors,
        "timeouts": soak.timeouts,
        "errors": soak.errors,
        "error_examples": soak.error_examples,
        "latency_ms": {
            name: percentile(soak.latency, pct) * ms for name, pct in (("p50", 50), ("p90", 90), ("p99", 99))
        }
        | {"max": max(soak.latency, default=0) * ms},
        "service_ms": {name: percentile(soak.service, pct) * ms for name, pct in (("p50", 50), ("p99", 99))},
        "max_in_flight": soak.max_in_flight,
        "max_send_lag_ms": soak.max_send_lag * ms,
    }
    problems = []
    if soak.errors:
        problems.append(
            f"{soak.errors} errors: {soak.non_2xx} non-2xx, {soak.socket_errors} socket errors, "
            f"{soak.timeouts} timeouts"
        )
    if not alive:
        problems.append("the gunicorn master exited during the soak")
    if workers_before != workers_after:
        problems.append(f"workers changed during the soak: {workers_before} -> {workers_after}")
    for pid, row in workers.items():
        if row["growth_second_half_mb"] > args.max_growth_mb:
            problems.append(
                f"worker {pid} grew {row['growth_second_half_mb']:.1f} MB over the second half "
                f"(limit {args.max_growth_mb:g} MB, BENCH_SOAK_MAX_GROWTH_MB)"
            )
    results = {
        "workers": args.workers,
        "peak": peak,
        "summary": summary,
        "max_growth_mb": args.max_growth_mb,
        "worker_rss": workers,
        "samples": soak.samples,
        "ok": not problems,
        "problems": problems,
        "load_average": os.getloadavg(),
    }
    (DATA / "soak.json").write_text(json.dumps(results, indent=2))

    print()
    if peak:
        print(f"peak validate rate (wrk, {args.connections} connections): {peak['rps']:.1f} req/s")
    print(
        f"soak: {args.seconds:.0f} s at target {target:.1f} req/s, achieved {achieved:.1f} req/s, "
        f"{soak.done} requests"
    )
    print(
        f"errors: {soak.non_2xx} non-2xx, {soak.socket_errors} socket errors, {soak.timeouts} timeouts; "
        f"statuses {soak.statuses}"
    )
    lat = summary["latency_ms"]
    print(
        f"latency from scheduled send: p50 {lat['p50']:.1f} ms, p90 {lat['p90']:.1f} ms, "
        f"p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms; service time p50 "
        f"{summary['service_ms']['p50']:.1f} ms, p99 {summary['service_ms']['p99']:.1f} ms; "
        f"max in flight {soak.max_in_flight}"
    )
    print(
        f"\n{'worker':>8}{'start MB':>10}{'mid MB':>9}{'end MB':>9}{'max MB':>9}{'2nd half':>10}{'total':>9}"
    )
    for pid, row in workers.items():
        print(
            f"{pid:>8}{row['start_mb']:>10.1f}{row['mid_mb']:>9.1f}{row['end_mb']:>9.1f}{row['max_mb']:>9.1f}"
            f"{row['growth_second_half_mb']:>+10.1f}{row['growth_total_mb']:>+9.1f}"
        )
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("samples: bench/.data/soak.json")
    if problems:
        print("\nSOAK FAILED:\n  " + "\n  ".join(problems))
        raise SystemExit(1)
    print(f"\nSOAK OK: no errors, every worker within {args.max_growth_mb:g} MB over the second half")


if __name__ == "__main__":
    main()
