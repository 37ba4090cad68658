-- Nexmark q0: passthrough. Same statement as bench/nexmark/README.md; `dateTime` is
-- back-quoted because DATETIME is a reserved word in Flink 2.3's SQL parser.
SELECT auction, bidder, price, `dateTime`, extra FROM bid
