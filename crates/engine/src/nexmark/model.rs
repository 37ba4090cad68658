//! The events and their text forms. Field names are the Nexmark ones (`dateTime`,
//! `emailAddress`, ...); times are epoch milliseconds, written as
//! `YYYY-MM-DD HH:MM:SS.mmm` (UTC), the default SQL timestamp format of Flink's JSON and
//! CSV formats.

use std::fmt::Write as _;

/// A new user of the auction site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub email_address: String,
    pub credit_card: String,
    pub city: String,
    pub state: String,
    pub date_time: i64,
    pub extra: String,
}

/// A new item for sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auction {
    pub id: i64,
    pub item_name: String,
    pub description: String,
    pub initial_bid: i64,
    pub reserve: i64,
    pub date_time: i64,
    pub expires: i64,
    pub seller: i64,
    pub category: i64,
    pub extra: String,
}

/// A bid on an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bid {
    pub auction: i64,
    pub bidder: i64,
    pub price: i64,
    pub channel: String,
    pub url: String,
    pub date_time: i64,
    pub extra: String,
}

/// One event of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Person(Person),
    Auction(Auction),
    Bid(Bid),
}

impl Event {
    /// The event time, epoch milliseconds.
    pub fn date_time(&self) -> i64 {
        match self {
            Event::Person(p) => p.date_time,
            Event::Auction(a) => a.date_time,
            Event::Bid(b) => b.date_time,
        }
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Epoch milliseconds as `YYYY-MM-DD HH:MM:SS.mmm` (UTC), appended to `out`.
pub fn push_datetime(out: &mut String, ms: i64) {
    let days = ms.div_euclid(86_400_000);
    let rest = ms.rem_euclid(86_400_000);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000,
    );
    let _ = write!(
        out,
        "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{milli:03}"
    );
}

/// Epoch milliseconds as `YYYY-MM-DD HH:MM:SS.mmm` (UTC).
pub fn format_datetime(ms: i64) -> String {
    let mut s = String::with_capacity(23);
    push_datetime(&mut s, ms);
    s
}

/// A JSON string literal. Generated text has no quotes, backslashes or control
/// characters, but the writer does not rely on it.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn push_csv_str(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

macro_rules! json_fields {
    ($out:ident; $($key:literal => $kind:ident $val:expr),* $(,)?) => {{
        $out.push('{');
        let mut _first = true;
        $(
            if !_first { $out.push(','); }
            _first = false;
            $out.push('"');
            $out.push_str($key);
            $out.push_str("\":");
            json_fields!(@value $out, $kind, $val);
        )*
        $out.push('}');
    }};
    (@value $out:ident, int, $v:expr) => { let _ = write!($out, "{}", $v); };
    (@value $out:ident, str, $v:expr) => { push_json_str($out, $v); };
    (@value $out:ident, time, $v:expr) => { $out.push('"'); push_datetime($out, $v); $out.push('"'); };
}

macro_rules! csv_fields {
    ($out:ident; $($kind:ident $val:expr),* $(,)?) => {{
        let mut _first = true;
        $(
            if !_first { $out.push(','); }
            _first = false;
            csv_fields!(@value $out, $kind, $val);
        )*
    }};
    (@value $out:ident, int, $v:expr) => { let _ = write!($out, "{}", $v); };
    (@value $out:ident, str, $v:expr) => { push_csv_str($out, $v); };
    (@value $out:ident, time, $v:expr) => { push_datetime($out, $v); };
}

impl Bid {
    /// The CSV header line's fields, in column order.
    pub const COLUMNS: [&'static str; 7] = [
        "auction", "bidder", "price", "channel", "url", "dateTime", "extra",
    ];
    /// Appends the JSON object (no line break).
    pub fn push_json(&self, out: &mut String) {
        json_fields!(out;
            "auction" => int self.auction, "bidder" => int self.bidder, "price" => int self.price,
            "channel" => str &self.channel, "url" => str &self.url,
            "dateTime" => time self.date_time, "extra" => str &self.extra);
    }
    /// Appends the CSV record (no line break).
    pub fn push_csv(&self, out: &mut String) {
        csv_fields!(out; int self.auction, int self.bidder, int self.price, str &self.channel,
            str &self.url, time self.date_time, str &self.extra);
    }
}

impl Auction {
    pub const COLUMNS: [&'static str; 10] = [
        "id",
        "itemName",
        "description",
        "initialBid",
        "reserve",
        "dateTime",
        "expires",
        "seller",
        "category",
        "extra",
    ];
    pub fn push_json(&self, out: &mut String) {
        json_fields!(out;
            "id" => int self.id, "itemName" => str &self.item_name,
            "description" => str &self.description, "initialBid" => int self.initial_bid,
            "reserve" => int self.reserve, "dateTime" => time self.date_time,
            "expires" => time self.expires, "seller" => int self.seller,
            "category" => int self.category, "extra" => str &self.extra);
    }
    pub fn push_csv(&self, out: &mut String) {
        csv_fields!(out; int self.id, str &self.item_name, str &self.description,
            int self.initial_bid, int self.reserve, time self.date_time, time self.expires,
            int self.seller, int self.category, str &self.extra);
    }
}

impl Person {
    pub const COLUMNS: [&'static str; 8] = [
        "id",
        "name",
        "emailAddress",
        "creditCard",
        "city",
        "state",
        "dateTime",
        "extra",
    ];
    pub fn push_json(&self, out: &mut String) {
        json_fields!(out;
            "id" => int self.id, "name" => str &self.name,
            "emailAddress" => str &self.email_address, "creditCard" => str &self.credit_card,
            "city" => str &self.city, "state" => str &self.state,
            "dateTime" => time self.date_time, "extra" => str &self.extra);
    }
    pub fn push_csv(&self, out: &mut String) {
        csv_fields!(out; int self.id, str &self.name, str &self.email_address,
            str &self.credit_card, str &self.city, str &self.state, time self.date_time,
            str &self.extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_are_utc_sql_timestamps() {
        assert_eq!(format_datetime(0), "1970-01-01 00:00:00.000");
        assert_eq!(
            format_datetime(1_772_323_200_000),
            "2026-03-01 00:00:00.000"
        );
        assert_eq!(format_datetime(951_825_599_999), "2000-02-29 11:59:59.999");
        assert_eq!(format_datetime(-1), "1969-12-31 23:59:59.999");
    }

    #[test]
    fn text_forms_escape_what_needs_it() {
        let b = Bid {
            auction: 1,
            bidder: 2,
            price: 3,
            channel: "a\"b".into(),
            url: "x,y".into(),
            date_time: 0,
            extra: String::new(),
        };
        let mut j = String::new();
        b.push_json(&mut j);
        assert_eq!(
            j,
            r#"{"auction":1,"bidder":2,"price":3,"channel":"a\"b","url":"x,y","dateTime":"1970-01-01 00:00:00.000","extra":""}"#
        );
        let mut c = String::new();
        b.push_csv(&mut c);
        assert_eq!(c, r#"1,2,3,"a""b","x,y",1970-01-01 00:00:00.000,"#);
    }
}
