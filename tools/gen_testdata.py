#!/usr/bin/env python3
"""Generate the test data packages of the example jobs in jobs/ (see formats/testdata.md).

    python3 tools/gen_testdata.py

For every example job this writes testdata/<job>/<source id>.jsonl (the input records, in
arrival order) and testdata/<job>/expected.jsonl (the rows every sink must receive). The
expected rows come from the reference implementations below, one function per SQL
operator (`ref_*`), written to follow the job's SQL clause by clause with Flink's
semantics for a bounded input:

* event time, and at the end of input the watermark goes to +infinity, so every window
  fires exactly once with all of its records (the generator makes sure no record is late);
* TUMBLE(size): windows [start, start + size) aligned to the epoch;
  HOP(slide, size): every window [k * slide, k * slide + size) that contains the record;
* window_start / window_end rendered as "YYYY-MM-DD HH:MM:SS.mmm" in UTC;
* COUNT, COUNT(DISTINCT) and SUM of integers are integers; SUM and AVG of DOUBLE are
  floats, summed in arrival order and never rounded.

Standard library only, fixed seeds: running it twice writes identical files.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JOBS_DIR = ROOT / "jobs"
TESTDATA_DIR = ROOT / "testdata"

SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

# 2026-03-01 10:00:00 UTC: every package's event time starts here.
T0 = int(dt.datetime(2026, 3, 1, 10, 0, 0, tzinfo=dt.timezone.utc).timestamp() * 1000)


# --------------------------------------------------------------------------------------
# Time helpers
# --------------------------------------------------------------------------------------


def render_ts(ms: int) -> str:
    """A TIMESTAMP(3) as the expected rows show it: 'YYYY-MM-DD HH:MM:SS.mmm', UTC."""
    t = dt.datetime.fromtimestamp(ms // 1000, tz=dt.timezone.utc)
    return f"{t:%Y-%m-%d %H:%M:%S}.{ms % 1000:03d}"


def tumble_window(ts: int, size: int) -> tuple[int, int]:
    """TUMBLE(TABLE t, DESCRIPTOR(ts), size): the one window [start, start + size) that
    holds ts, aligned to the epoch (Flink: start = ts - (ts + size) % size, offset 0)."""
    start = ts - (ts + size) % size
    return start, start + size


def hop_windows(ts: int, slide: int, size: int) -> list[tuple[int, int]]:
    """HOP(TABLE t, DESCRIPTOR(ts), slide, size): every window [start, start + size) with
    start a multiple of slide and start <= ts < start + size (Flink's
    SlidingEventTimeWindows.assignWindows, offset 0). Latest window first."""
    last_start = ts - (ts + slide) % slide
    windows = []
    start = last_start
    while start > ts - size:
        windows.append((start, start + size))
        start -= slide
    return windows


# --------------------------------------------------------------------------------------
# Arrival order: bounded out-of-orderness
# --------------------------------------------------------------------------------------


def arrival_order(records: list[dict], rng: random.Random, late_share: float, max_delay: int) -> list[dict]:
    """Return the records in the order a topic delivers them: a share of them is held back
    by 1..max_delay ms. A record that arrives after another is then at most max_delay ms
    older than it, so event time is mostly increasing with bounded out-of-orderness."""
    keyed = []
    for seq, r in enumerate(sorted(records, key=lambda r: r["ts"])):
        delay = rng.randint(1, max_delay) if seq > 0 and rng.random() < late_share else 0
        keyed.append((r["ts"] + delay, seq, r))
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [r for _, _, r in keyed]


def check_no_late_records(records: list[dict], watermark_ms: int) -> int:
    """Assert that no record is late for a watermark of `watermark_ms` out-of-orderness:
    every ts >= (max ts seen so far) - watermark_ms + 1. Returns the largest lateness."""
    max_seen = None
    worst = 0
    for n, r in enumerate(records):
        if max_seen is not None:
            lateness = max_seen - r["ts"]
            worst = max(worst, lateness)
            if r["ts"] < max_seen - watermark_ms + 1:
                raise SystemExit(f"record {n} is {lateness} ms late; watermark_ms is {watermark_ms}")
            max_seen = max(max_seen, r["ts"])
        else:
            max_seen = r["ts"]
    return worst


# --------------------------------------------------------------------------------------
# Job 1: clickstream_pv
# --------------------------------------------------------------------------------------

PAGES = [
    ("/", 30),
    ("/search", 18),
    ("/category/phones", 10),
    ("/category/laptops", 7),
    ("/product/1001", 9),
    ("/product/1002", 6),
    ("/product/2001", 5),
    ("/product/3005", 3),
    ("/cart", 6),
    ("/checkout", 3),
    ("/help", 2),
    ("/account", 1),
]


def gen_clicks(rng: random.Random) -> list[dict]:
    """1,500 clicks of 400 users over 15 minutes; a few exactly on a minute boundary (they
    belong to the window that starts there) or one ms before it."""
    urls = [u for u, _ in PAGES]
    weights = [w for _, w in PAGES]
    users = [f"u{n:04d}" for n in range(1, 401)]
    # a few heavy users make UV clearly smaller than PV
    user_weights = [25 if n <= 20 else 1 for n in range(1, 401)]
    span = 15 * MINUTE
    times = sorted([T0] + [T0 + rng.randrange(span) for _ in range(1_490)])
    times += [T0 + k * MINUTE for k in (1, 2, 7, 14)] + [T0 + k * MINUTE - 1 for k in (1, 3, 8, 12, 15)]
    clicks = []
    for ts in sorted(times):
        clicks.append({
            "user_id": rng.choices(users, user_weights)[0],
            "url": rng.choices(urls, weights)[0],
            "ts": ts,
        })
    return clicks


def ref_clickstream_pv(clicks: list[dict]) -> list[dict]:
    """SELECT window_start, window_end, url, COUNT(*) AS pv, COUNT(DISTINCT user_id) AS uv
    FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
    GROUP BY window_start, window_end, url"""
    groups: dict[tuple, dict] = {}
    for c in clicks:
        start, end = tumble_window(c["ts"], MINUTE)
        g = groups.setdefault((start, end, c["url"]), {"pv": 0, "users": set()})
        g["pv"] += 1
        g["users"].add(c["user_id"])
    return [
        {
            "window_start": render_ts(start),
            "window_end": render_ts(end),
            "url": url,
            "pv": g["pv"],
            "uv": len(g["users"]),
        }
        for (start, end, url), g in groups.items()
    ]


# --------------------------------------------------------------------------------------
# Job 2: risk_control
# --------------------------------------------------------------------------------------

CITIES = ["Beijing", "Shanghai", "Guangzhou", "Shenzhen", "Chengdu", "Hangzhou", "Wuhan", "Nanjing"]
MERCHANTS = [
    "FamilyMart", "Starbucks", "JD.com", "Tmall", "Didi", "Meituan", "Wanda Cinema",
    "Sinopec", "Uniqlo", "Apple Store", "Haidilao", "China Railway", "Carrefour",
]
AMOUNT_SPIKE = 10000.0


def gen_txns(rng: random.Random) -> list[dict]:
    """800-odd transactions of 40 cards over 30 minutes. Ordinary purchases stay in the
    card's home city and below 1,000. Planted cases (fixed, so every run has them):
    cards 1-6 pay in a second city within 1-4 minutes (distant_places); cards 7-12 make
    one payment of 10,000 or more, card 7 exactly 10,000.00 (amount_spike); card 13 does
    both in one window (distant_places wins); card 14 pays 9,999.99 (no alert)."""
    span = 30 * MINUTE
    txns = []

    def txn(card: int, home: str, ts: int, amount: float, city: str | None = None) -> None:
        txns.append({
            "card_id": f"card_{card:04d}",
            "amount": amount,
            "city": city or home,
            "merchant": rng.choice(MERCHANTS),
            "ts": ts,
        })

    homes = {card: rng.choice(CITIES) for card in range(1, 41)}
    for card in range(1, 41):
        for _ in range(rng.randint(14, 26)):
            amount = round(min(rng.lognormvariate(4.0, 1.0), 999.0) + 1.0, 2)
            txn(card, homes[card], T0 + rng.randrange(span), amount)
    elsewhere = lambda card: rng.choice([c for c in CITIES if c != homes[card]])  # noqa: E731
    for card in range(1, 7):
        at = T0 + rng.randrange(2 * MINUTE, span - 6 * MINUTE)
        txn(card, homes[card], at, round(rng.uniform(20, 400), 2))
        txn(card, homes[card], at + rng.randrange(1 * MINUTE, 4 * MINUTE), round(rng.uniform(20, 900), 2), elsewhere(card))
    for card in range(7, 13):
        at = T0 + rng.randrange(2 * MINUTE, span - 2 * MINUTE)
        amount = AMOUNT_SPIKE if card == 7 else round(rng.uniform(10_000, 48_000), 2)
        txn(card, homes[card], at, amount)
    at = T0 + 12 * MINUTE + 30 * SECOND
    txn(13, homes[13], at, 15_800.0)
    txn(13, homes[13], at + 90 * SECOND, round(rng.uniform(50, 300), 2), elsewhere(13))
    txn(14, homes[14], T0 + 20 * MINUTE, 9_999.99)
    txn(1, homes[1], T0, 35.5)  # the first record is at T0
    return txns


def ref_risk_alerts(txns: list[dict]) -> list[dict]:
    """SELECT card_id, window_start, window_end,
           COUNT(DISTINCT city) AS cities, COUNT(*) AS txns, SUM(amount) AS total,
           MAX(amount) AS max_amount,
           CASE WHEN COUNT(DISTINCT city) >= 2 THEN 'distant_places'
                ELSE 'amount_spike' END AS reason
    FROM TABLE(HOP(TABLE txns, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE))
    GROUP BY card_id, window_start, window_end
    HAVING COUNT(DISTINCT city) >= 2 OR MAX(amount) >= 10000"""
    groups: dict[tuple, dict] = {}
    for t in txns:
        for start, end in hop_windows(t["ts"], MINUTE, 5 * MINUTE):
            g = groups.setdefault((t["card_id"], start, end), {"cities": set(), "txns": 0, "total": 0.0, "max": None})
            g["cities"].add(t["city"])
            g["txns"] += 1
            g["total"] += t["amount"]  # DOUBLE sum, in arrival order
            g["max"] = t["amount"] if g["max"] is None else max(g["max"], t["amount"])
    rows = []
    for (card_id, start, end), g in groups.items():
        cities = len(g["cities"])
        if not (cities >= 2 or g["max"] >= 10000):  # HAVING
            continue
        rows.append({
            "card_id": card_id,
            "window_start": render_ts(start),
            "window_end": render_ts(end),
            "cities": cities,
            "txns": g["txns"],
            "total": g["total"],
            "max_amount": g["max"],
            "reason": "distant_places" if cities >= 2 else "amount_spike",
        })
    return rows


# --------------------------------------------------------------------------------------
# Job 3: iot_alerts
# --------------------------------------------------------------------------------------

# Planted heat episodes: device -> (start offset from T0, length, plateau °C). The
# temperature ramps up over RAMP, holds near the plateau, and ramps down over RAMP.
RAMP = 8 * SECOND
HEAT_EPISODES = {
    2: (20 * SECOND, 45 * SECOND, 84.0),  # warning
    4: (95 * SECOND, 30 * SECOND, 86.5),  # warning
    7: (60 * SECOND, 50 * SECOND, 95.0),  # critical
    10: (5 * SECOND, 35 * SECOND, 92.0),  # critical
    12: (120 * SECOND, 40 * SECOND, 88.5),  # warning, noise may touch 90
    15: (140 * SECOND, 40 * SECOND, 97.0),  # critical until the end of input
}
# Readings planted on thresholds: device -> [(offset from T0 in ms, temperature)].
EDGE_READINGS = {
    5: [(72 * SECOND + 500, 80.0)],  # exactly 80: the window alerts (warning)
    9: [(151 * SECOND, 90.0)],  # exactly 90: critical
    16: [(95 * SECOND, 79.9)],  # just below 80: no alert
}


def heat(offset: int, start: int, length: int) -> float:
    """0 outside the episode, rising to 1 over RAMP, 1 on the plateau, falling over RAMP."""
    x = offset - start
    if x < 0 or x > length:
        return 0.0
    return min(1.0, x / RAMP, (length - x) / RAMP)


def gen_readings(rng: random.Random) -> list[dict]:
    """16 devices reporting every ~2 s for 3 minutes (1,400-odd readings). Temperatures
    sit at 20-45 °C; planted heat episodes ramp up to a plateau and down again."""
    span = 3 * MINUTE
    readings = []
    for dev in range(1, 17):
        base = rng.uniform(20, 45)
        humidity = rng.uniform(30, 70)
        ts = T0 + (0 if dev == 1 else rng.randrange(2 * SECOND))
        while ts < T0 + span:
            temp = base + rng.gauss(0, 1.2)
            if dev in HEAT_EPISODES:
                start, length, plateau = HEAT_EPISODES[dev]
                h = heat(ts - T0, start, length)
                if h > 0:
                    temp = base + (plateau - base) * h + rng.gauss(0, 0.8)
            readings.append({
                "device_id": f"dev_{dev:03d}",
                "temperature": round(min(temp, 99.0), 1),
                "humidity": round(min(max(humidity + rng.gauss(0, 2), 5), 99), 1),
                "ts": ts,
            })
            ts += 2 * SECOND + rng.randint(-200, 200)
    for dev, planted in EDGE_READINGS.items():
        for offset, temp in planted:
            readings.append({
                "device_id": f"dev_{dev:03d}",
                "temperature": temp,
                "humidity": round(rng.uniform(30, 70), 1),
                "ts": T0 + offset,
            })
    return readings


def ref_iot_alerts(readings: list[dict]) -> list[dict]:
    """SELECT device_id, window_start, window_end,
           AVG(temperature) AS avg_temp, MAX(temperature) AS max_temp, COUNT(*) AS readings,
           CASE WHEN MAX(temperature) >= 90 THEN 'critical' ELSE 'warning' END AS level
    FROM TABLE(TUMBLE(TABLE readings, DESCRIPTOR(ts), INTERVAL '10' SECOND))
    GROUP BY device_id, window_start, window_end
    HAVING MAX(temperature) >= 80"""
    groups: dict[tuple, dict] = {}
    for r in readings:
        start, end = tumble_window(r["ts"], 10 * SECOND)
        g = groups.setdefault((r["device_id"], start, end), {"sum": 0.0, "count": 0, "max": None})
        g["sum"] += r["temperature"]  # DOUBLE sum, in arrival order
        g["count"] += 1
        g["max"] = r["temperature"] if g["max"] is None else max(g["max"], r["temperature"])
    rows = []
    for (device_id, start, end), g in groups.items():
        if not g["max"] >= 80:  # HAVING
            continue
        rows.append({
            "device_id": device_id,
            "window_start": render_ts(start),
            "window_end": render_ts(end),
            "avg_temp": g["sum"] / g["count"],
            "max_temp": g["max"],
            "readings": g["count"],
            "level": "critical" if g["max"] >= 90 else "warning",
        })
    return rows


# --------------------------------------------------------------------------------------
# Job 4: ecommerce_features
# --------------------------------------------------------------------------------------

CATEGORIES = [
    "phones", "laptops", "audio", "cameras", "books", "toys",
    "sports", "beauty", "home", "grocery", "fashion", "games",
]
ACTION_SCORE = {"buy": 5, "cart": 3, "view": 1}


def gen_events(rng: random.Random) -> list[dict]:
    """800-odd events of 12 users over one hour. Each user browses 4 to 8 favourite
    categories (so the top 3 cut most windows) with uneven weights; 75 % views, 17 % cart,
    8 % buys."""
    span = HOUR
    events = []
    for n in range(1, 13):
        user = f"user_{n:02d}"
        favourites = rng.sample(CATEGORIES, rng.randint(4, 8))
        weights = [rng.uniform(0.5, 6.0) for _ in favourites]
        for _ in range(rng.randint(50, 100)):
            events.append({
                "user_id": user,
                "category": rng.choices(favourites, weights)[0],
                "action": rng.choices(["view", "cart", "buy"], [75, 17, 8])[0],
                "ts": T0 + rng.randrange(span),
            })
    events.append({"user_id": "user_01", "category": "books", "action": "view", "ts": T0})
    return events


def ref_interest_view(events: list[dict]) -> list[dict]:
    """CREATE VIEW interest AS
    SELECT window_start, window_end, user_id, category,
           SUM(CASE action WHEN 'buy' THEN 5 WHEN 'cart' THEN 3 ELSE 1 END) AS score,
           COUNT(*) AS events
    FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '10' MINUTE, INTERVAL '1' HOUR))
    GROUP BY window_start, window_end, user_id, category"""
    groups: dict[tuple, dict] = {}
    for e in events:
        weight = ACTION_SCORE.get(e["action"], 1)  # CASE ... ELSE 1
        for start, end in hop_windows(e["ts"], 10 * MINUTE, HOUR):
            g = groups.setdefault((start, end, e["user_id"], e["category"]), {"score": 0, "events": 0})
            g["score"] += weight
            g["events"] += 1
    return [
        {"window_start": start, "window_end": end, "user_id": user, "category": cat, **g}
        for (start, end, user, cat), g in groups.items()
    ]


def ref_top_interest(interest: list[dict], top_n: int = 3) -> list[dict]:
    """SELECT window_start, window_end, user_id, category, score, events,
           rn AS interest_rank
    FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, user_id
                                       ORDER BY score DESC, category ASC) AS rn
          FROM interest)
    WHERE rn <= 3"""
    partitions: dict[tuple, list[dict]] = {}
    for row in interest:
        partitions.setdefault((row["window_start"], row["window_end"], row["user_id"]), []).append(row)
    rows = []
    for part in partitions.values():
        ranked = sorted(part, key=lambda r: (-r["score"], r["category"]))
        for rn, r in enumerate(ranked, start=1):
            if rn > top_n:
                break
            rows.append({
                "window_start": render_ts(r["window_start"]),
                "window_end": render_ts(r["window_end"]),
                "user_id": r["user_id"],
                "category": r["category"],
                "score": r["score"],
                "events": r["events"],
                "interest_rank": rn,
            })
    return rows


# --------------------------------------------------------------------------------------
# Packages
# --------------------------------------------------------------------------------------

# name: (seed, source id, record generator, share of held-back records, reference query,
#        sink ids). The watermark and the field list are read from the job file.
PACKAGES = {
    "clickstream_pv": (1001, "clicks", gen_clicks, 0.12, ref_clickstream_pv, ["out"]),
    "risk_control": (2002, "txns", gen_txns, 0.10, ref_risk_alerts, ["to_kafka", "to_pg"]),
    "iot_alerts": (3003, "readings", gen_readings, 0.15, ref_iot_alerts, ["to_kafka", "to_mysql"]),
    "ecommerce_features": (
        4004, "events", gen_events, 0.12,
        lambda events: ref_top_interest(ref_interest_view(events)),
        ["to_redis", "to_pg"],
    ),
}


def job_facts(name: str, source: str, sinks: list[str]) -> tuple[int, list[str]]:
    """Read the source's watermark_ms and field names from jobs/<name>.ron (canonical
    layout), and check that the job has exactly the expected sinks."""
    text = (JOBS_DIR / f"{name}.ron").read_text()
    m = re.search(r'KafkaSource\(\s*id: "' + re.escape(source) + r'",(.*?)\n        \),', text, re.S)
    if not m:
        raise SystemExit(f"jobs/{name}.ron has no KafkaSource `{source}`")
    body = m.group(1)
    watermark = int(re.search(r"watermark_ms: (\d+)", body).group(1))
    fields = re.findall(r'\(name: "(\w+)", type: \w+', body)
    found_sinks = re.findall(r'\b\w+Sink\(\s*id: "(\w+)"', text)
    if sorted(found_sinks) != sorted(sinks):
        raise SystemExit(f"jobs/{name}.ron has sinks {found_sinks}, the generator expects {sinks}")
    return watermark, fields


def jsonl(objects) -> str:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects)


def build_package(name: str) -> dict:
    seed, source, generate, late_share, reference, sinks = PACKAGES[name]
    watermark, fields = job_facts(name, source, sinks)
    rng = random.Random(seed)
    records = generate(rng)
    for r in records:
        if list(r) != fields:
            raise SystemExit(f"{name}: record fields {list(r)} differ from the job's {fields}")
    # held-back records: at most 80 % of the watermark late, so none is dropped
    records = arrival_order(records, rng, late_share, max_delay=watermark * 8 // 10)
    worst = check_no_late_records(records, watermark)
    if min(r["ts"] for r in records) != T0 or records[0]["ts"] != T0:
        raise SystemExit(f"{name}: event time must start at {render_ts(T0)}")
    rows = reference(records)
    expected = sorted(
        ({"sink": sink, "row": row} for sink in sinks for row in rows),
        key=lambda e: (e["sink"], json.dumps(e["row"], ensure_ascii=False)),
    )
    out = TESTDATA_DIR / name
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{source}.jsonl").write_text(jsonl(records))
    (out / "expected.jsonl").write_text(jsonl(expected))
    return {"records": len(records), "rows": len(rows), "expected": len(expected), "worst_lateness_ms": worst, "watermark_ms": watermark}


def main() -> None:
    for name in PACKAGES:
        s = build_package(name)
        print(
            f"testdata/{name}: {s['records']} records (max lateness {s['worst_lateness_ms']} ms"
            f" < watermark {s['watermark_ms']} ms), {s['rows']} rows x sinks = {s['expected']} expected lines",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
