//! Event `n` of a Nexmark stream, computed from (config, n) alone, so that any range of
//! the stream can be generated on its own and the same seed always gives the same events.
//!
//! Proportions and distributions follow the reference generator (`NexmarkGenerator` of
//! github.com/nexmark/nexmark): in every 50 consecutive events 1 person, 3 auctions and
//! 46 bids; half of the bids go to the current hot auction (the first of the last 100
//! auctions), the others to one of the ~110 auctions still open; three bids in four come
//! from the current hot bidder (second of the last 100 persons), the others from one of the
//! last 1000 persons; prices are `round(10^(6u) * 100)`, u uniform (1 to 100 000 000
//! cents, log-uniform); 9 bids in 10 come from one of 4 hot channels with their URL, the
//! others from one of 10 000 channels; `extra` pads each event to the reference average
//! size (bid 100, auction 500, person 200 bytes) ± 20 %.
//!
//! The random numbers are not Java's, so the events are not byte-identical to the
//! reference generator's: the shape is the same, the values differ.

use super::model::{Auction, Bid, Event, Person};

/// What decides the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Same seed, same events.
    pub seed: u64,
    /// Events per second of event time (all kinds): event n is at `base_ms + n*1000/rate`
    /// before the out-of-order shift.
    pub event_rate: u64,
    /// Each event's time is moved back by a random 0..=ooo_ms milliseconds; events are
    /// still emitted in order of n, so none is more than `ooo_ms` behind an earlier one.
    pub ooo_ms: u64,
    /// Event time of event 0, epoch milliseconds.
    pub base_ms: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 42,
            event_rate: 100_000,
            ooo_ms: 1000,
            // 2026-03-01 00:00:00 UTC
            base_ms: 1_772_323_200_000,
        }
    }
}

const PERSON_PROPORTION: u64 = 1;
const AUCTION_PROPORTION: u64 = 3;
const TOTAL_PROPORTION: u64 = 50;
const FIRST_PERSON_ID: i64 = 1000;
const FIRST_AUCTION_ID: i64 = 1000;
const FIRST_CATEGORY_ID: i64 = 10;
const NUM_CATEGORIES: u64 = 5;
const HOT_AUCTION_RATIO: u64 = 2;
const HOT_BIDDER_RATIO: u64 = 4;
const HOT_SELLER_RATIO: u64 = 4;
const HOT_GROUP: u64 = 100;
const NUM_IN_FLIGHT_AUCTIONS: u64 = 100;
const AUCTION_ID_LEAD: u64 = 10;
const NUM_ACTIVE_PEOPLE: u64 = 1000;
const PERSON_ID_LEAD: u64 = 10;
const CHANNELS: usize = 10_000;
const HOT_CHANNELS: [&str; 4] = ["Google", "Facebook", "Baidu", "Apple"];
const AVG_BID_BYTES: u64 = 100;
const AVG_AUCTION_BYTES: u64 = 500;
const AVG_PERSON_BYTES: u64 = 200;
const FIRST_NAMES: [&str; 11] = [
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter",
];
const LAST_NAMES: [&str; 9] = [
    "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris",
];
const US_STATES: [&str; 6] = ["AZ", "CA", "ID", "OR", "WA", "WY"];
const US_CITIES: [&str; 10] = [
    "Phoenix",
    "Los Angeles",
    "San Francisco",
    "Boise",
    "Portland",
    "Bend",
    "Redmond",
    "Seattle",
    "Kent",
    "Cheyenne",
];
const POOL: usize = 1 << 14;

/// The kind of event `n` (a pure function of n: 1 person, 3 auctions, 46 bids per 50).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Person,
    Auction,
    Bid,
}

/// The kind of event number `n`.
pub fn event_kind(n: u64) -> EventKind {
    let offset = n % TOTAL_PROPORTION;
    if offset < PERSON_PROPORTION {
        EventKind::Person
    } else if offset < PERSON_PROPORTION + AUCTION_PROPORTION {
        EventKind::Auction
    } else {
        EventKind::Bid
    }
}

/// SplitMix64: small, fast, and good enough for benchmark data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, n: u64) -> Self {
        let mut r = Rng(seed ^ n.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0; 0 gives 0).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn last_base0_auction_id(n: u64) -> u64 {
    let mut epoch = n / TOTAL_PROPORTION;
    let mut offset = n % TOTAL_PROPORTION;
    if offset < PERSON_PROPORTION {
        // about to generate a person: the last auction of the previous epoch
        if epoch == 0 {
            return 0;
        }
        epoch -= 1;
        offset = AUCTION_PROPORTION - 1;
    } else if offset >= PERSON_PROPORTION + AUCTION_PROPORTION {
        offset = AUCTION_PROPORTION - 1;
    } else {
        offset -= PERSON_PROPORTION;
    }
    epoch * AUCTION_PROPORTION + offset
}

fn last_base0_person_id(n: u64) -> u64 {
    // one person per epoch, first in it: the last person so far is this epoch's
    const _: () = assert!(PERSON_PROPORTION == 1);
    n / TOTAL_PROPORTION
}

fn next_base0_auction_id(n: u64, rng: &mut Rng) -> u64 {
    let max = last_base0_auction_id(n);
    let min = max.saturating_sub(NUM_IN_FLIGHT_AUCTIONS);
    min + rng.below(max - min + 1 + AUCTION_ID_LEAD)
}

fn next_base0_person_id(n: u64, rng: &mut Rng) -> u64 {
    let people = last_base0_person_id(n) + 1;
    let active = people.min(NUM_ACTIVE_PEOPLE);
    people - active + rng.below(active + PERSON_ID_LEAD)
}

fn next_price(rng: &mut Rng) -> i64 {
    (10f64.powf(rng.unit() * 6.0) * 100.0).round() as i64
}

/// A bid with borrowed text (the in-memory source builds Arrow arrays from it).
#[derive(Debug, Clone, Copy)]
pub struct BidRef<'a> {
    pub auction: i64,
    pub bidder: i64,
    pub price: i64,
    pub channel: &'a str,
    pub url: &'a str,
    pub date_time: i64,
    pub extra: &'a str,
}

/// The generator: the config plus the text pools derived from its seed.
#[derive(Debug, Clone)]
pub struct Generator {
    config: Config,
    /// Random lowercase letters; `extra` and other random strings are slices of it.
    letters: String,
    channels: Vec<(String, String)>,
}

impl Generator {
    pub fn new(config: Config) -> Self {
        let mut rng = Rng::new(config.seed, u64::MAX);
        let letters: String = (0..POOL)
            .map(|_| (b'a' + rng.below(26) as u8) as char)
            .collect();
        let base_url = |rng: &mut Rng| {
            let mut part = || {
                let o = rng.below((POOL - 5) as u64) as usize;
                letters[o..o + 5].to_string()
            };
            format!(
                "https://www.nexmark.com/{}/{}/{}/item.htm?query=1",
                part(),
                part(),
                part()
            )
        };
        let mut channels: Vec<(String, String)> = HOT_CHANNELS
            .iter()
            .map(|c| (c.to_string(), base_url(&mut rng)))
            .collect();
        for i in 0..CHANNELS {
            let url = format!(
                "{}&channel_id={}",
                base_url(&mut rng),
                i.reverse_bits() >> 32
            );
            channels.push((format!("channel-{i}"), url));
        }
        Generator {
            config,
            letters,
            channels,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Event time of event `n`, epoch milliseconds, before the out-of-order shift.
    pub fn base_time(&self, n: u64) -> i64 {
        let rate = self.config.event_rate.max(1) as u128;
        self.config.base_ms + (n as u128 * 1000 / rate) as i64
    }

    fn time(&self, n: u64, rng: &mut Rng) -> i64 {
        let shift = if self.config.ooo_ms > 0 {
            rng.below(self.config.ooo_ms + 1) as i64
        } else {
            0
        };
        self.base_time(n) - shift
    }

    fn string(&self, rng: &mut Rng, len: usize) -> &str {
        let len = len.min(POOL);
        let o = rng.below((POOL - len + 1) as u64) as usize;
        &self.letters[o..o + len]
    }

    /// Padding to `avg` bytes given `used` bytes already, ± 20 %.
    fn extra(&self, rng: &mut Rng, used: u64, avg: u64) -> &str {
        if used >= avg {
            return "";
        }
        let want = avg - used;
        let delta = (want as f64 * 0.2).round() as u64;
        let len = want - delta + if delta == 0 { 0 } else { rng.below(2 * delta) };
        self.string(rng, len as usize)
    }

    /// Event number `n`.
    pub fn event(&self, n: u64) -> Event {
        match event_kind(n) {
            EventKind::Person => Event::Person(self.person(n)),
            EventKind::Auction => Event::Auction(self.auction(n)),
            EventKind::Bid => {
                let b = self.bid_ref(n);
                Event::Bid(Bid {
                    auction: b.auction,
                    bidder: b.bidder,
                    price: b.price,
                    channel: b.channel.to_string(),
                    url: b.url.to_string(),
                    date_time: b.date_time,
                    extra: b.extra.to_string(),
                })
            }
        }
    }

    /// Event `n` as a bid, when it is one (the others are skipped without generating).
    pub fn bid(&self, n: u64) -> Option<Bid> {
        match event_kind(n) {
            EventKind::Bid => match self.event(n) {
                Event::Bid(b) => Some(b),
                _ => None,
            },
            _ => None,
        }
    }

    /// Event `n` as a bid with borrowed text; `n` must be a bid (see [`event_kind`]),
    /// otherwise the fields are those a bid at that position would have.
    pub fn bid_ref(&self, n: u64) -> BidRef<'_> {
        let mut rng = Rng::new(self.config.seed, n);
        let auction = if rng.below(HOT_AUCTION_RATIO) > 0 {
            (last_base0_auction_id(n) / HOT_GROUP) * HOT_GROUP
        } else {
            next_base0_auction_id(n, &mut rng)
        } as i64
            + FIRST_AUCTION_ID;
        let bidder = if rng.below(HOT_BIDDER_RATIO) > 0 {
            (last_base0_person_id(n) / HOT_GROUP) * HOT_GROUP + 1
        } else {
            next_base0_person_id(n, &mut rng)
        } as i64
            + FIRST_PERSON_ID;
        let price = next_price(&mut rng);
        let (channel, url) = if rng.below(10) > 0 {
            &self.channels[rng.below(HOT_CHANNELS.len() as u64) as usize]
        } else {
            &self.channels[HOT_CHANNELS.len() + rng.below(CHANNELS as u64) as usize]
        };
        let date_time = self.time(n, &mut rng);
        let extra = self.extra(&mut rng, 32, AVG_BID_BYTES);
        BidRef {
            auction,
            bidder,
            price,
            channel,
            url,
            date_time,
            extra,
        }
    }

    fn person(&self, n: u64) -> Person {
        let mut rng = Rng::new(self.config.seed, n);
        let id = last_base0_person_id(n) as i64 + FIRST_PERSON_ID;
        let name = format!(
            "{} {}",
            FIRST_NAMES[rng.below(FIRST_NAMES.len() as u64) as usize],
            LAST_NAMES[rng.below(LAST_NAMES.len() as u64) as usize]
        );
        let email_address = format!(
            "{}@{}.com",
            self.string(&mut rng, 7),
            self.string(&mut rng, 5)
        );
        let credit_card = (0..4)
            .map(|_| format!("{:04}", rng.below(10_000)))
            .collect::<Vec<_>>()
            .join(" ");
        let city = US_CITIES[rng.below(US_CITIES.len() as u64) as usize].to_string();
        let state = US_STATES[rng.below(US_STATES.len() as u64) as usize].to_string();
        let date_time = self.time(n, &mut rng);
        let used =
            8 + name.len() + email_address.len() + credit_card.len() + city.len() + state.len();
        let extra = self
            .extra(&mut rng, used as u64, AVG_PERSON_BYTES)
            .to_string();
        Person {
            id,
            name,
            email_address,
            credit_card,
            city,
            state,
            date_time,
            extra,
        }
    }

    fn auction(&self, n: u64) -> Auction {
        let mut rng = Rng::new(self.config.seed, n);
        let id = last_base0_auction_id(n) as i64 + FIRST_AUCTION_ID;
        let seller = if rng.below(HOT_SELLER_RATIO) > 0 {
            (last_base0_person_id(n) / HOT_GROUP) * HOT_GROUP
        } else {
            next_base0_person_id(n, &mut rng)
        } as i64
            + FIRST_PERSON_ID;
        let category = FIRST_CATEGORY_ID + rng.below(NUM_CATEGORIES) as i64;
        let initial_bid = next_price(&mut rng);
        let reserve = initial_bid + next_price(&mut rng);
        let date_time = self.time(n, &mut rng);
        // open for 10 to 60 s of event time
        let expires = date_time + 10_000 + rng.below(50_000) as i64;
        let item_name = self.string(&mut rng, 20).to_string();
        let description = self.string(&mut rng, 100).to_string();
        let used = 8 + item_name.len() + description.len() + 8 + 8 + 8 + 8 + 8;
        let extra = self
            .extra(&mut rng, used as u64, AVG_AUCTION_BYTES)
            .to_string();
        Auction {
            id,
            item_name,
            description,
            initial_bid,
            reserve,
            date_time,
            expires,
            seller,
            category,
            extra,
        }
    }

    /// Events `range` in order.
    pub fn events(&self, range: std::ops::Range<u64>) -> impl Iterator<Item = Event> + '_ {
        range.map(|n| self.event(n))
    }
}
