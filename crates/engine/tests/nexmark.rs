//! The Nexmark generator (proportions, determinism, out-of-orderness bound, field
//! distributions, file round trip) and the Nexmark queries of bench/nexmark/ streamed
//! through the SQL operator against independent batch computations over the same bids:
//! q1 and q2 as the same statements in one DataFusion batch query, q5 and q7 by window
//! arithmetic and a TopN computed here.
// Helpers outside #[test] functions unwrap and panic too: that is a failed test, and
// clippy's allow-*-in-tests settings cover only the test functions themselves.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::util::display::array_value_to_string;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use weir_engine::Operator;
use weir_engine::decode::{RawBatch, RecordDecoder};
use weir_engine::nexmark::{
    Bid, Config, Event, EventKind, Generator, bid_schema, bids_batch, event_kind, format_datetime,
};
use weir_engine::sql::{InputTable, SqlOperator};

fn generator(seed: u64, event_rate: u64, ooo_ms: u64) -> Generator {
    Generator::new(Config {
        seed,
        event_rate,
        ooo_ms,
        ..Config::default()
    })
}

fn bids(g: &Generator, n: u64) -> Vec<Bid> {
    (0..n).filter_map(|i| g.bid(i)).collect()
}

#[test]
fn proportions_are_1_3_46() {
    let g = generator(1, 100_000, 1000);
    let mut count = BTreeMap::new();
    for e in g.events(0..50_000) {
        let k = match e {
            Event::Person(_) => "person",
            Event::Auction(_) => "auction",
            Event::Bid(_) => "bid",
        };
        *count.entry(k).or_insert(0u64) += 1;
    }
    assert_eq!(count["person"], 1000);
    assert_eq!(count["auction"], 3000);
    assert_eq!(count["bid"], 46_000);
    assert_eq!(event_kind(0), EventKind::Person);
    assert_eq!(event_kind(3), EventKind::Auction);
    assert_eq!(event_kind(4), EventKind::Bid);
}

#[test]
fn same_seed_same_events_other_seed_other_events() {
    let a: Vec<Event> = generator(7, 100_000, 500).events(0..5000).collect();
    let b: Vec<Event> = generator(7, 100_000, 500).events(0..5000).collect();
    let c: Vec<Event> = generator(8, 100_000, 500).events(0..5000).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
    // any range on its own gives the same events as the whole stream
    let g = generator(7, 100_000, 500);
    assert_eq!(
        g.events(1234..2000).collect::<Vec<_>>(),
        a[1234..2000].to_vec()
    );
}

#[test]
fn out_of_orderness_stays_within_the_bound() {
    for ooo in [0u64, 1, 250, 1000] {
        let g = generator(3, 50_000, ooo);
        let mut max = i64::MIN;
        let mut worst = 0i64;
        let mut behind = 0u64;
        for e in g.events(0..100_000) {
            let t = e.date_time();
            if t < max {
                behind += 1;
                worst = worst.max(max - t);
            }
            max = max.max(t);
        }
        assert!(worst <= ooo as i64, "ooo {ooo}: an event {worst} ms behind");
        if ooo == 0 {
            assert_eq!(behind, 0);
        } else if ooo >= 250 {
            assert!(
                behind > 10_000,
                "ooo {ooo}: events are out of order ({behind})"
            );
            assert!(worst > ooo as i64 / 2, "ooo {ooo}: worst {worst}");
        }
    }
    // event time advances at event_rate: 100 000 events at 50 000/s span 2 s
    let g = generator(3, 50_000, 0);
    assert_eq!(g.base_time(100_000) - g.base_time(0), 2000);
}

#[test]
fn field_distributions_are_those_of_nexmark() {
    let g = generator(11, 100_000, 1000);
    let bids = bids(&g, 200_000);
    let n = bids.len() as f64;
    let share = |f: &dyn Fn(&Bid) -> bool| bids.iter().filter(|b| f(b)).count() as f64 / n;
    // prices: log-uniform 100 ..= 100 000 000 cents; half of them below 10^5
    assert!(bids.iter().all(|b| (100..=100_000_000).contains(&b.price)));
    let low = share(&|b| b.price < 100_000);
    assert!((0.47..0.53).contains(&low), "prices below 1000.00: {low}");
    // 9 in 10 bids come from the 4 hot channels
    let hot = share(&|b| ["Google", "Facebook", "Baidu", "Apple"].contains(&b.channel.as_str()));
    assert!((0.88..0.92).contains(&hot), "hot channels: {hot}");
    assert!(
        bids.iter()
            .all(|b| b.url.starts_with("https://www.nexmark.com/"))
    );
    // half of the bids go to the hot auction (a multiple of 100 above 1000)
    let hot_auction = share(&|b| (b.auction - 1000) % 100 == 0);
    assert!(
        (0.49..0.56).contains(&hot_auction),
        "hot auction: {hot_auction}"
    );
    // 3 in 4 from the hot bidder (second of a group of 100 persons)
    let hot_bidder = share(&|b| (b.bidder - 1000) % 100 == 1);
    assert!(
        (0.74..0.78).contains(&hot_bidder),
        "hot bidder: {hot_bidder}"
    );
    // extra pads a bid to ~100 bytes: 68 ± 20 %
    assert!(bids.iter().all(|b| (54..=82).contains(&b.extra.len())));
    let avg = bids.iter().map(|b| b.extra.len()).sum::<usize>() as f64 / n;
    assert!((66.0..70.0).contains(&avg), "extra length {avg}");
    // ids: auctions and bidders exist (or are a few ahead, the reference's "lead")
    for (i, e) in g.events(0..200_000).enumerate() {
        let epoch = i as i64 / 50;
        match e {
            Event::Bid(b) => {
                assert!(b.auction >= 1000 && b.auction <= 1000 + epoch * 3 + 2 + 10);
                assert!(b.bidder >= 1000 && b.bidder <= 1000 + epoch + 10);
            }
            Event::Auction(a) => {
                assert!((10..15).contains(&a.category));
                assert!(a.reserve > a.initial_bid && a.expires > a.date_time);
            }
            Event::Person(p) => {
                assert_eq!(p.id, 1000 + epoch);
                assert_eq!(p.credit_card.len(), 19);
                assert!(p.email_address.ends_with(".com"));
            }
        }
    }
}

#[test]
fn json_files_decode_back_to_the_generated_bids() {
    let dir = std::env::temp_dir().join(format!("weir-nexmark-test-{}", std::process::id()));
    let g = generator(5, 100_000, 1000);
    let w = weir_engine::nexmark::write_files(
        &g,
        3000,
        &dir,
        weir_engine::nexmark::FileFormat::Json,
        |_| {},
    )
    .unwrap();
    assert_eq!((w.persons, w.auctions, w.bids), (60, 180, 2760));
    let text = std::fs::read_to_string(dir.join("bid.jsonl")).unwrap();
    let mut raw = RawBatch::default();
    for (i, line) in text.lines().enumerate() {
        raw.push(0, i as i64, line.as_bytes());
    }
    let decoder = RecordDecoder::new(bid_schema(), weir_model::model::Format::Json, Some(5));
    let decoded = decoder.decode(&raw).unwrap();
    assert!(decoded.bad.is_empty(), "{:?}", decoded.bad.first());
    let want = bids_batch(&bids(&g, 3000)).unwrap();
    assert_eq!(decoded.batch, want);
    // the text form is Flink's SQL timestamp format
    assert!(text.contains(&format!(
        "\"dateTime\":\"{}\"",
        format_datetime(want_first_time(&g))
    )));
    // csv with a header line, the same rows
    let w = weir_engine::nexmark::write_files(
        &g,
        3000,
        &dir,
        weir_engine::nexmark::FileFormat::Csv,
        |_| {},
    )
    .unwrap();
    assert_eq!(w.bids, 2760);
    let csv = std::fs::read_to_string(dir.join("bid.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("auction,bidder,price,channel,url,dateTime,extra")
    );
    let mut raw = RawBatch::default();
    for (i, line) in lines.enumerate() {
        raw.push(0, i as i64, line.as_bytes());
    }
    let decoder = RecordDecoder::new(bid_schema(), weir_model::model::Format::Csv, Some(5));
    let decoded = decoder.decode(&raw).unwrap();
    assert!(decoded.bad.is_empty());
    assert_eq!(decoded.batch, want);
    let _ = std::fs::remove_dir_all(&dir);
}

fn want_first_time(g: &Generator) -> i64 {
    g.bid(4).unwrap().date_time
}

/// The query of bench/nexmark/`q`.ron.
fn query(q: &str) -> String {
    let path = format!("{}/../../bench/nexmark/{q}.ron", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let job = weir_model::jobfile::check_source(&path, &text).job.unwrap();
    job.nodes
        .iter()
        .find_map(|n| match n {
            weir_model::model::Node::Sql(s) => Some(s.query.clone()),
            _ => None,
        })
        .unwrap()
}

/// Rows as sorted text lines; timestamps as epoch ms.
fn lines(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let cols: Vec<ArrayRef> = b
            .columns()
            .iter()
            .map(|c| match c.data_type() {
                DataType::Timestamp(..) => cast(c, &DataType::Int64).unwrap(),
                _ => Arc::clone(c),
            })
            .collect();
        for i in 0..b.num_rows() {
            let row: Vec<String> = cols
                .iter()
                .map(|c| array_value_to_string(c, i).unwrap())
                .collect();
            out.push(row.join("|"));
        }
    }
    out.sort();
    out
}

/// Streams the bids in generation order, batches of `rows`, watermark = newest − 4 s.
fn stream(sql: &str, bids: &[Bid], rows: usize) -> Vec<String> {
    let input = InputTable {
        name: "bid".into(),
        schema: bid_schema(),
        event_time: Some("dateTime".into()),
    };
    let mut op = SqlOperator::new("nexmark", sql, &[input]).unwrap();
    let mut out = Vec::new();
    let mut max = i64::MIN;
    for chunk in bids.chunks(rows) {
        op.on_batch(0, bids_batch(chunk).unwrap(), &mut out)
            .unwrap();
        max = max.max(chunk.iter().map(|b| b.date_time).max().unwrap());
        op.on_watermark(max - 4000, &mut out).unwrap();
    }
    op.on_watermark(i64::MAX, &mut out).unwrap();
    op.close(&mut out).unwrap();
    assert_eq!(op.late_rows(), 0);
    lines(&out)
}

/// `sql` as one DataFusion batch query over the bids as table `bid`.
fn batch_sql(sql: &str, bids: &[Bid]) -> Vec<String> {
    let b = bids_batch(bids).unwrap();
    let ctx = SessionContext::new();
    let table = MemTable::try_new(bid_schema(), vec![vec![b]]).unwrap();
    ctx.register_table("bid", Arc::new(table)).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sql = sql.replace("dateTime", "\"dateTime\"");
    let out = rt.block_on(async { ctx.sql(&sql).await.unwrap().collect().await.unwrap() });
    lines(&out)
}

fn data() -> Vec<Bid> {
    // 40 s of event time, shifted up to 1 s out of order
    bids(&generator(21, 2_000, 1000), 80_000)
}

#[test]
fn q0_q1_q2_equal_the_batch_query() {
    let bids = data();
    for q in ["q0", "q1", "q2"] {
        let sql = query(q);
        let want = batch_sql(&sql, &bids);
        assert!(want.len() > 100, "{q}: {} rows", want.len());
        for rows in [1000, 4096, 777] {
            assert_eq!(stream(&sql, &bids, rows), want, "{q}, batches of {rows}");
        }
    }
    assert_eq!(batch_sql(&query("q0"), &bids).len(), bids.len());
}

#[test]
fn q5_hot_items_equal_window_arithmetic_and_topn() {
    let bids = data();
    // count per (HOP window 10 s every 2 s, auction), by arithmetic on epoch ms
    let mut counts: BTreeMap<(i64, i64), u64> = BTreeMap::new();
    for b in &bids {
        let last = b.date_time - b.date_time.rem_euclid(2000);
        for k in 0..5 {
            *counts.entry((last - k * 2000, b.auction)).or_default() += 1;
        }
    }
    // per window: the most bids, ties to the lowest auction id
    let mut best: BTreeMap<i64, (u64, i64)> = BTreeMap::new();
    for ((ws, auction), n) in counts {
        let e = best.entry(ws).or_insert((n, auction));
        if n > e.0 || (n == e.0 && auction < e.1) {
            *e = (n, auction);
        }
    }
    let mut want: Vec<String> = best
        .iter()
        .map(|(ws, (n, a))| format!("{a}|{n}|{ws}|{}", ws + 10_000))
        .collect();
    want.sort();
    assert!(want.len() >= 20, "{} windows", want.len());
    assert_eq!(stream(&query("q5"), &bids, 1000), want);
}

#[test]
fn q7_highest_bid_equals_window_arithmetic_and_topn() {
    let bids = data();
    // per TUMBLE window of 10 s: the highest price, ties to the lowest (auction, bidder)
    let mut best: BTreeMap<i64, (i64, i64, i64)> = BTreeMap::new();
    for b in &bids {
        let ws = b.date_time - b.date_time.rem_euclid(10_000);
        let cand = (b.price, -b.auction, -b.bidder);
        let e = best.entry(ws).or_insert(cand);
        if cand > *e {
            *e = cand;
        }
    }
    let mut want: Vec<String> = best
        .iter()
        .map(|(ws, (p, a, b))| format!("{}|{}|{p}|{ws}|{}", -a, -b, ws + 10_000))
        .collect();
    want.sort();
    assert!(want.len() >= 4, "{} windows", want.len());
    assert_eq!(stream(&query("q7"), &bids, 1000), want);
}

#[test]
fn bid_schema_is_the_job_schema() {
    let s: Schema = (*bid_schema()).clone();
    let names: Vec<&String> = s.fields().iter().map(|f: &Arc<Field>| f.name()).collect();
    assert_eq!(
        names,
        [
            "auction", "bidder", "price", "channel", "url", "dateTime", "extra"
        ]
    );
}
